# syntax=docker/dockerfile:1
# Static binary on a distroless base: no shell, no package manager, non-root.
FROM golang:1.26.10-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/aegis-gitea-mcp ./cmd/aegis-gitea-mcp

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/aegis-gitea-mcp /aegis-gitea-mcp
# In a container the server must listen on all interfaces; publish the port
# only where it is meant to be reached (e.g. 127.0.0.1:8080:8080 behind a proxy).
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK NONE
ENTRYPOINT ["/aegis-gitea-mcp"]
CMD ["serve"]
