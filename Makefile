# Go 1.26.8 has reachable standard-library vulnerabilities: pin the fixed
# toolchain. The go command fetches it through the module proxy on first use.
export GOTOOLCHAIN := go1.26.10

SHELL := bash
.SHELLFLAGS := -o pipefail -ec

GO        ?= go
BINARY    := bin/aegis-gitea-mcp
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
IMAGE     ?= aegis-gitea-mcp:$(VERSION)

GOLANGCI_VERSION := v2.15.0
TOOLS_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/aegis-gitea-mcp/tools
GOLANGCI  := $(TOOLS_DIR)/golangci-lint-$(GOLANGCI_VERSION)/golangci-lint

.PHONY: build run test test-short conformance bench lint format docker-build docker-up help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-13s %s\n", $$1, $$2}'

build: ## build the static binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/aegis-gitea-mcp

run: build ## run the server with ./.env (copy .env.example to start)
	./$(BINARY) serve

# The end-to-end tests build (first run only, cached) and start a real Gitea.
# -v shows them running against it; the grep hides only the RUN/PAUSE/CONT noise.
test: ## run every test, end-to-end against a real Gitea included
	$(GO) test -race -count=1 -timeout 60m -v ./... | grep -vE '^=== (RUN|PAUSE|CONT|NAME)'

test-short: ## run the fast unit tests only
	$(GO) test -race -short ./...

# The official MCP conformance suite (npm @modelcontextprotocol/conformance,
# pinned with Node 22 in scripts/conformance) against /mcp on a real Gitea.
conformance: ## run the MCP conformance suite against /mcp (needs npm)
	AEGIS_CONFORMANCE=1 $(GO) test -count=1 -v -run '^TestConformance$$' ./e2e | grep -vE '^=== (RUN|PAUSE|CONT|NAME)'

bench: ## run the benchmarks
	$(GO) test -run='^$$' -bench=. -benchmem ./...

$(GOLANGCI):
	GOBIN=$(dir $(GOLANGCI)) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

lint: $(GOLANGCI) ## run the pinned golangci-lint (installed on first use)
	$(GOLANGCI) run ./...

format: ## format the code
	gofmt -s -w $$(git ls-files '*.go')
	$(GO) mod tidy

docker-build: ## build the container image (needs a Docker engine)
	docker build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

docker-up: ## run the image with ./.env via docker compose (needs a Docker engine)
	IMAGE=$(IMAGE) docker compose up -d
