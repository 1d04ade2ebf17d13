# gongkai — one entry point for every check CI runs (.ci/run calls `make ci`).
#
#   make test    run the tests of every module in go.work
#   make check   gofmt, go vet
#   make demo    run the end-to-end demo once
#   make build   build the binaries into bin/
#   make promtool check and unit-test the Prometheus rules and the
#                Alertmanager example (promtool, amtool; part of make test)

SHELL := /bin/bash
MODULES := pkg/events services
BIN := $(CURDIR)/bin
# Pinned nats-server for the test that runs the per-service binaries against
# a separately started server (the same version the services link).
NATS_SERVER_VERSION := v2.15.2
export GONGKAI_NATS_SERVER := $(BIN)/nats-server

.PHONY: test check build demo ci tools promtool

tools: $(BIN)/nats-server

$(BIN)/nats-server:
	GOBIN=$(BIN) GOWORK=off go install github.com/nats-io/nats-server/v2@$(NATS_SERVER_VERSION)

test: tools promtool
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

# Prometheus rules (deploy/prometheus): promtool check rules/config and the
# rule unit tests; the Alertmanager example (deploy/alertmanager): amtool
# check-config and a routing test per team. Debian's prometheus and
# prometheus-alertmanager packages provide the tools (.ci/run installs
# them); outside CI a missing tool is reported and skipped.
PROMTOOL ?= promtool
AMTOOL ?= amtool
promtool:
	@if command -v $(PROMTOOL) >/dev/null; then \
		set -e; cd deploy/prometheus; \
		echo "== promtool check rules / config / test rules"; \
		$(PROMTOOL) check rules *.rules.yml; \
		$(PROMTOOL) check config prometheus.yml; \
		$(PROMTOOL) test rules *_test.yml; \
	elif [ -n "$$CI" ]; then echo "promtool not found (apt-get install prometheus)"; exit 1; \
	else echo "promtool not found: Prometheus rules not checked (apt-get install prometheus)"; fi
	@if command -v $(AMTOOL) >/dev/null; then \
		set -e; cd deploy/alertmanager; \
		echo "== amtool check-config / config routes test"; \
		$(AMTOOL) check-config alertmanager.yml; \
		$(AMTOOL) config routes test --config.file=alertmanager.yml --verify.receivers=operators-page team=operators severity=critical 2>/dev/null; \
		$(AMTOOL) config routes test --config.file=alertmanager.yml --verify.receivers=operators-mail team=operators severity=warning 2>/dev/null; \
		$(AMTOOL) config routes test --config.file=alertmanager.yml --verify.receivers=open-government-office team=open-government-office severity=critical region=江苏省 2>/dev/null; \
	elif [ -n "$$CI" ]; then echo "amtool not found (apt-get install prometheus-alertmanager)"; exit 1; \
	else echo "amtool not found: Alertmanager example not checked (apt-get install prometheus-alertmanager)"; fi
