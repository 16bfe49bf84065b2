# kubectl alone, to show that a pod using in-cluster configuration reaches the API server.
FROM scratch
COPY kubectl /kubectl
USER 1000:1000
ENTRYPOINT ["/kubectl"]
