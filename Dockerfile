# The production image of switchback: one static binary that runs `worker`,
# `serve` and the CLI commands. Built with the nodev tag, it leaves out the
# embedded Temporal server and Web UI of `switchback dev`.
#
#   docker build -t switchback:local .
#   docker run --rm switchback:local validate

# The builder's Go version is go.mod's go line (deploy/compose_test.go checks).
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0
# Modules first: this layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -tags nodev -trimpath -ldflags "-s -w" -o /out/switchback ./cmd/switchback

# Distroless static: no shell, no package manager; health checks use
# `switchback probe URL`.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchback /usr/local/bin/switchback
# nonroot (65532) owns nothing but its home: the store is Postgres.
USER 65532:65532
WORKDIR /home/nonroot
# serve (SWITCHBACK_HTTP_ADDR) and the worker's /metrics (SWITCHBACK_METRICS_ADDR).
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/switchback"]
CMD ["worker"]
