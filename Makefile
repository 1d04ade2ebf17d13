# gongkai — one entry point for every check CI runs (.ci/run calls `make ci`).
#
#   make test    run the tests of every module in go.work
#   make check   gofmt, go vet
#   make demo    run the end-to-end demo once
#   make build   build the binaries into bin/

SHELL := /bin/bash
MODULES := pkg/events services
BIN := $(CURDIR)/bin
# Pinned nats-server for the test that runs the per-service binaries against
# a separately started server (the same version the services link).
NATS_SERVER_VERSION := v2.15.2
export GONGKAI_NATS_SERVER := $(BIN)/nats-server

.PHONY: test check build demo ci tools

tools: $(BIN)/nats-server

$(BIN)/nats-server:
	GOBIN=$(BIN) GOWORK=off go install github.com/nats-io/nats-server/v2@$(NATS_SERVER_VERSION)

test: tools
	@set -e; for m in $(MODULES); do \
		echo "== go test $$m"; \
		(cd $$m && go test -count=1 ./...); \
	done

check:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@set -e; for m in $(MODULES); do (cd $$m && go vet ./...); done

build:
	cd services && go build -o $(BIN)/ ./cmd/...

demo:
	cd services && go run ./cmd/gongkai demo --once

ci: check test
