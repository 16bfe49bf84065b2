# The programs whose language stacks the cluster tests read (tests/cluster/images.sh builds the
# rootfs): Go, CPython and a HotSpot JVM, run as an unprivileged user.
FROM scratch
COPY rootfs/ /
ENV PATH=/jre/bin:/usr/bin
USER 1000:1000
