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

ACTIONLINT_VERSION  := v1.7.12
ACTIONLINT          := $(TOOLS_DIR)/actionlint-$(ACTIONLINT_VERSION)/actionlint
GOVULNCHECK_VERSION := v1.9.0
GOVULNCHECK         := $(TOOLS_DIR)/govulncheck-$(GOVULNCHECK_VERSION)/govulncheck
# The vulnerability database is built here from this snapshot of the
# golang.org/x/vulndb module (its data/osv reports, indexed by its own
# cmd/indexdb): no network but the module proxy. Move it on to take in
# newer reports.
VULNDB_VERSION      := v0.0.0-20261105234957-e22db6528018
VULNDB_DIR          := $(TOOLS_DIR)/vulndb-$(VULNDB_VERSION)

.PHONY: build run test test-short conformance bench lint format docker-build docker-up help

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build the static binary into bin/
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BINARY) ./cmd/aegis-gitea-mcp

run: build ## run the server with ./.env (copy .env.example to start)
	./$(BINARY) serve

# The one-command demo (cmd/aegis-demo, a binary of its own so the server
# carries no Gitea builder): builds Gitea once (cached, shared with the
# tests), starts it on loopback with a demo user, repository and token, and
# serves this server against it until Ctrl-C. State: ~/.cache/aegis-gitea-mcp/demo.
# Flags through DEMO_ARGS, e.g. make demo DEMO_ARGS=--reset
.PHONY: demo
DEMO_BINARY := bin/aegis-demo
demo: ## try it in one command: a real local Gitea, a demo user and token, and this server
	CGO_ENABLED=0 $(GO) build -trimpath -o $(DEMO_BINARY) ./cmd/aegis-demo
	./$(DEMO_BINARY) $(DEMO_ARGS)

# The end-to-end tests build (first run only, cached) and start a real Gitea.
# -v shows them running against it; the grep hides only the RUN/PAUSE/CONT noise.
# The same run measures coverage over every package (-coverpkg: the end-to-end
# tests count for the code they reach; with -race it costs no measurable time)
# and fails below COVERAGE_MIN percent of statements.
COVERAGE_MIN ?= 80
COVERPROFILE ?= coverage.out
test: ## run every test, end-to-end against a real Gitea included; coverage gate
	$(GO) test -race -count=1 -timeout 60m -v -coverpkg=./... -coverprofile=$(COVERPROFILE) ./... \
	  | grep -vE '^=== (RUN|PAUSE|CONT|NAME)'
	GO=$(GO) scripts/coverage-gate $(COVERPROFILE) $(COVERAGE_MIN)

test-short: ## run the fast unit tests only
	$(GO) test -race -short ./...

# The official MCP conformance suite (npm @modelcontextprotocol/conformance,
# pinned with Node 22 in scripts/conformance) against /mcp on a real Gitea.
conformance: ## run the MCP conformance suite against /mcp (needs npm)
	AEGIS_CONFORMANCE=1 $(GO) test -count=1 -v -run '^TestConformance$$' ./e2e | grep -vE '^=== (RUN|PAUSE|CONT|NAME)'

# The official MCP TypeScript SDK's own OAuth client (npm
# @modelcontextprotocol/sdk, pinned with Node 22 in scripts/broker-client)
# through the whole broker flow on a real Gitea, by DCR and by a Client ID
# Metadata Document.
.PHONY: broker-clients
broker-clients: ## run the TypeScript SDK's OAuth client through the broker (needs npm)
	AEGIS_BROKER_CLIENTS=1 $(GO) test -count=1 -v -run '^TestBrokerTypeScriptClient$$' ./e2e | grep -vE '^=== (RUN|PAUSE|CONT|NAME)'

bench: ## run the benchmarks
	$(GO) test -run='^$$' -bench=. -benchmem ./...

# The end-to-end benchmark (cmd/aegis-bench): a real Gitea and the built
# server as a process, on loopback; one line per measure. Both fail when
# allocations per call rise > 25 % above bench/baseline.json; times are
# reported, never a gate. BENCH_FLAGS adds flags, e.g. -env GOGC=200.
.PHONY: bench-e2e bench-e2e-short
bench-e2e: build ## end-to-end benchmark against a real Gitea (~2 min)
	$(GO) run ./cmd/aegis-bench -server $(BINARY) -baseline bench/baseline.json $(BENCH_FLAGS)

bench-e2e-short: build ## the same, short (~30 s; CI runs it)
	$(GO) run ./cmd/aegis-bench -short -server $(BINARY) -baseline bench/baseline.json $(BENCH_FLAGS)

$(GOLANGCI):
	GOBIN=$(dir $(GOLANGCI)) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_VERSION)

lint: $(GOLANGCI) ## run the pinned golangci-lint (installed on first use)
	$(GOLANGCI) run ./...

.PHONY: actionlint vuln dist

$(ACTIONLINT):
	GOBIN=$(dir $@) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

actionlint: $(ACTIONLINT) ## check the Gitea Actions workflows (pinned actionlint)
	$(ACTIONLINT) .gitea/workflows/*.yml

$(GOVULNCHECK):
	GOBIN=$(dir $@) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

$(VULNDB_DIR)/indexdb:
	GOBIN=$(dir $@) $(GO) install golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION)

# The module is downloaded from outside this module so go.sum stays as it is.
$(VULNDB_DIR)/db/index/db.json: $(VULNDB_DIR)/indexdb
	rm -rf $(VULNDB_DIR)/db $(VULNDB_DIR)/db.tmp
	src=$$(cd $(VULNDB_DIR) && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) \
	  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	  test -d "$$src/data/osv"; \
	  $(VULNDB_DIR)/indexdb -vulns "$$src/data/osv" -out $(VULNDB_DIR)/db.tmp
	mv $(VULNDB_DIR)/db.tmp $(VULNDB_DIR)/db

vuln: $(GOVULNCHECK) $(VULNDB_DIR)/db/index/db.json ## fail on a reachable vulnerability (govulncheck, local database)
	$(GOVULNCHECK) -db file://$(VULNDB_DIR)/db ./...

DIST_PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

# Static (CGO off), -trimpath, version stamped; SHA256SUMS in the format
# `sha256sum -c SHA256SUMS` checks.
dist: ## cross-build release binaries with SHA256SUMS into dist/
	rm -rf dist && mkdir -p dist
	for platform in $(DIST_PLATFORMS); do \
	  os=$${platform%/*}; arch=$${platform#*/}; ext=; [ $$os = windows ] && ext=.exe; \
	  echo "dist: $$os/$$arch"; \
	  CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
	    -o dist/aegis-gitea-mcp-$(VERSION)-$$os-$$arch$$ext ./cmd/aegis-gitea-mcp; \
	done
	cd dist && sha256sum aegis-gitea-mcp-* >SHA256SUMS && cat SHA256SUMS

format: ## format the code
	gofmt -s -w $$(git ls-files '*.go')
	$(GO) mod tidy

REVISION ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

docker-build: ## build the container image from docker/Dockerfile (needs a Docker engine)
	docker build -f docker/Dockerfile --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t $(IMAGE) .

docker-up: ## build and start docker-compose.yml's stack: Gitea and this server (needs a Docker engine)
	AEGIS_VERSION=$(VERSION) docker compose up -d --build

# docker/Dockerfile's runtime stage built with podman on a local base (no
# registry is needed) and run against a real Gitea: /healthz through the
# published port, the healthcheck's exit codes, uid 65532, a read-only root
# filesystem. Needs root and Debian's podman, runc and slirp4netns.
.PHONY: container-test
container-test: ## build the image with podman and test it against a real Gitea
	AEGIS_CONTAINER_TEST=1 $(GO) test -count=1 -timeout 30m -v -run '^TestContainer' ./e2e | grep -vE '^=== (RUN|PAUSE|CONT|NAME)'
