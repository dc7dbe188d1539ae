# Shoal: `make run` brings a local cluster up, `make test` proves it works.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
NODE_BIN := $(CURDIR)/node_modules/.bin
BUF := $(NODE_BIN)/buf
RUN_DIR ?= $(CURDIR)/.run
FUZZTIME ?= 10s
GO_TEST_FLAGS ?= -timeout 20m

SERVICES := apigateway scheduler controller nodeagent xds
NODES ?= 1

.PHONY: all build images proto check-proto check-ts check-go check-deploy check-prometheus test test-go fuzz run clean node-deps interop

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node-deps: node_modules/.installed

## proto: regenerate gen/go and gen/ts from proto/ (offline: local plugins only).
proto: node-deps
	$(BUF) generate

## build: every service binary, shoalctl and shoal-local (static) into bin/.
build:
	@mkdir -p $(BIN)
	CGO_ENABLED=0 $(GO) build -o $(BIN)/ $(addprefix ./services/,$(SERVICES)) \
		./tools/shoalctl ./tools/greeter/client ./tools/localcluster/cmd/shoal-local

## images: an OCI archive of each service (shoal.local/<service>:latest,
## tools/mkimage) in bin/images/, to run them as containers.
images: build
	$(BIN)/shoal-local images --bin $(BIN) --out $(BIN)/images

## check-proto: buf lint, buf breaking against main, generated code up to date.
check-proto: node-deps
	$(BUF) lint
	@if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto 2>/dev/null; then \
		echo "buf breaking --against .git#branch=main"; \
		$(BUF) breaking --against '.git#branch=main'; \
	else echo "buf breaking: no proto/ on main yet, nothing to compare"; fi
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
		$(BUF) generate -o $$tmp && \
		diff -r $$tmp/gen/go gen/go && diff -r $$tmp/gen/ts/src gen/ts/src && \
		echo "generated code is up to date"

## check-ts: the TypeScript SDK type-checks.
check-ts: node-deps
	$(NODE_BIN)/tsc -p gen/ts

## check-go: formatting and vet.
check-go:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test $(GO_TEST_FLAGS) ./...

## fuzz: a short run of every fuzz target.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzObject$$' -fuzztime $(FUZZTIME) ./services/apigateway/validation
	$(GO) test -run '^$$' -fuzz '^FuzzParseLabels$$' -fuzztime $(FUZZTIME) ./sdk/go/selector
	$(GO) test -run '^$$' -fuzz '^FuzzParseFields$$' -fuzztime $(FUZZTIME) ./sdk/go/selector

## check-deploy: every systemd unit in deploy/ passes systemd-analyze verify
## (checked against the binaries just built).
check-deploy: build
	@tmp=$$(mktemp -d) && trap 'rm -rf $$tmp' EXIT && \
	for unit in deploy/*/shoal-*.service; do \
		svc=$$(basename $$unit .service); svc=$${svc#shoal-}; \
		sed "s#/usr/local/bin/shoal-$$svc#$(BIN)/$$svc#" $$unit > $$tmp/$$(basename $$unit); \
		systemd-analyze verify $$tmp/$$(basename $$unit) || exit 1; \
		echo "systemd-analyze verify $$unit: ok"; \
	done

## check-prometheus: the Prometheus config and SLO rules are valid, and the
## rules' unit tests pass (Debian's prometheus package provides promtool).
check-prometheus:
	promtool check config deploy/prometheus/prometheus.yml
	promtool check rules deploy/prometheus/rules/*.yml
	promtool test rules deploy/prometheus/tests/*.yml

## interop: service logs and traces reach a real Fluent forward + OTLP
## receiver (the OpenTelemetry Collector, built once into
## ~/.cache/shoal/otelcol). Not part of `make test`; see docs/observability.md.
interop:
	OTELCOL_BIN=$$(tools/interop/build-collector.sh) && \
		OTELCOL_BIN=$$OTELCOL_BIN $(GO) test -tags interop -count=1 -v $(GO_TEST_FLAGS) ./tools/interop/

## test: everything CI runs.
test: check-proto check-ts check-go check-deploy check-prometheus test-go fuzz

## run: a local cluster (containerd, apigateway with embedded etcd, scheduler,
## controller, xds, NODES node agents) plus the sample app, in the
## foreground, as root; Ctrl-C stops it and cleans up. See docs/localcluster.md.
run: build
	@if [ "$$(id -u)" != 0 ]; then echo "make run needs root (containers, network namespaces): sudo make run NODES=$(NODES)"; exit 1; fi
	$(BIN)/shoal-local --bin $(BIN) --dir $(RUN_DIR) --nodes $(NODES) --manifests deploy/local

clean:
	rm -rf $(BIN) $(RUN_DIR)
