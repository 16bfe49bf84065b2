# Debian's eu-stack (elfutils) with the libraries it links: the traffic benchmark's baseline, a
# stack dump taken the way a user would without Ephemera (kubectl debug --profile=general).
FROM scratch
COPY rootfs/ /
ENTRYPOINT ["/usr/bin/eu-stack"]
