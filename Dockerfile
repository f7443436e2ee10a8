# The kit's own image: the adapter-conformance CLI, a static binary, and
# nothing else. Build the binary first, then the image (the context needs
# only the binary; .dockerignore keeps the rest of the repository out):
#
#   CGO_ENABLED=0 go build -o adapter-conformance ./cmd/adapter-conformance
#   docker build -t adapter-conformance .
#
# Run it against a deployment (a URL target) on the host's network, with the
# reports written to the working directory:
#
#   docker run --rm --network host -v "$PWD:/work" adapter-conformance \
#     run --target http://127.0.0.1:8080
#
# For --target images (container mode) it drives the host's engine through
# its socket: add -v /var/run/docker.sock:/var/run/docker.sock.
FROM scratch
COPY adapter-conformance /adapter-conformance
# scratch has no /tmp; WORKDIR makes it. The kit builds container targets
# and exports fixtures in temporary directories.
WORKDIR /tmp
ENV TMPDIR=/tmp
# Reports go to /work/adapter-conformance-report by default: mount /work.
WORKDIR /work
ENTRYPOINT ["/adapter-conformance"]
CMD ["help"]
