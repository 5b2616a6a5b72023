# govlisten — the commands a newcomer, ops and CI use.
GO       ?= go
BIN      ?= bin/govlisten
PKGS     := ./...
STATICCHECK_VERSION := v0.8.2

.PHONY: up build test test-short lint bench deps deps-test clean

## up: install what is missing, build, and run everything in one process (Ctrl-C stops)
up: deps build
	$(BIN) up

## build: build bin/govlisten (optimised with the CPU profile cmd/govlisten/default.pgo; see pgo)
build:
	$(GO) build -o $(BIN) ./cmd/govlisten

## test: install what is missing, lint, then every test (unit and integration, with the race detector),
## then the allocation tests, which skip under the race detector (sync.Pool drops items at random there)
test: deps-test lint
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	$(GO) test -count=1 -run 'Allocs$$|Allocations$$' ./processors/sentiment/ ./processors/tagger/
	$(MAKE) --no-print-directory fuzz FUZZTIME=3s

## lint: gofmt, go vet, staticcheck
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

## bench: the hot-function benchmarks, then `govlisten bench all`: collection, tag step, processing, latency and
## queries over 10 million mentions, each beside a baseline measured in the same run (10 to 15 minutes);
## tables on stdout, JSON in bench-results/ (all.json to compare commits). BENCH_FLAGS adds flags, e.g.
## BENCH_FLAGS='--queries-rows 1000000 --latency-duration 20s' for a quicker run
BENCH_FLAGS ?=
bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	$(BIN) bench all $(BENCH_FLAGS)

## pgo: refresh cmd/govlisten/default.pgo, the profile `go build` optimises the binary with, from three runs of
## `govlisten bench process` (about 2 minutes); commit it after a change to the hot path
.PHONY: pgo
pgo: deps build
	@GO=$(GO) BIN=$(BIN) scripts/pgo.sh

## fuzz: run every fuzz target in the repo for FUZZTIME each (default 30s; minimizing a new input takes at most 5s of it); a failing input is saved under the package's testdata/fuzz/ (scripts/fuzz.sh: a bare "context deadline exceeded", Go's golang/go#75804, is run once more)
FUZZTIME ?= 30s
.PHONY: fuzz
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

## chaos: the whole pipeline for CHAOS_DURATION (default 5m) under scheduled faults (kill -9, NATS crash, ClickHouse down, API 429/5xx/timeouts/garbage, full stream), then an exact reconciliation: served, landed, dead-lettered, lost, doubled
CHAOS_DURATION ?= 5m
.PHONY: chaos
chaos: deps-test
	GOVLISTEN_CHAOS_DURATION=$(CHAOS_DURATION) $(GO) test -count=1 -v -timeout 60m -run '^TestChaos$$' ./cmd/govlisten

## deps: install ClickHouse from the system's packages when it is missing
deps:
	@scripts/deps.sh

## deps-test: deps, plus what only the tests use (ZooKeeper, systemd-analyze, Chromium)
deps-test:
	@scripts/deps.sh --test

clean:
	rm -rf bin govlisten-data
