# kdaguard build, test and demo. `make test` is the one test command: it
# installs what the tests need into ./bin and ./node_modules first.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

GO      ?= go
BIN     := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

# Every folder under functions/ is one Lambda function (a `bootstrap` main).
FUNCTIONS := $(notdir $(patsubst %/,%,$(wildcard functions/*/)))
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w'
# Fuzz budgets are execution counts, not durations: a duration races Go's fuzz
# coordinator at its deadline (go.dev/issue/75804, unfixed before Go 1.27) and
# fails with a bare "context deadline exceeded" and no crasher, as CI did.
FUZZEXECS ?= 50000x
FUZZMINIMIZE ?= 500x
FUZZFLAGS = -fuzztime $(FUZZEXECS) -fuzzminimizetime $(FUZZMINIMIZE)

.PHONY: all tools build test vet unit fuzz bench docs clean

all: build test

## tools: everything the tests need, installed into the repository
tools::

## build: dist/<function>/bootstrap for Lambda (linux/arm64) and bin/functions/<function> for the RIE (host arch)
build:
	@for fn in $(FUNCTIONS); do \
	  echo "build $$fn"; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build $(LAMBDA_FLAGS) -o dist/$$fn/bootstrap ./functions/$$fn; \
	  CGO_ENABLED=0 $(GO) build -tags lambda.norpc -o bin/functions/$$fn ./functions/$$fn; \
	done
	$(GO) build -o bin/kdaguard ./cmd/kdaguard
	@if [ -d cmd/localaws ]; then $(GO) build -o bin/localaws ./cmd/localaws; fi

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^node_modules/')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -count=1 ./...

## fuzz: a short run of each fuzz target (FUZZEXECS executions each)
fuzz::
	$(GO) test -run '^$$' -fuzz '^FuzzParse$$' $(FUZZFLAGS) ./shared/source/template
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' $(FUZZFLAGS) ./shared/trigger

## test: the README's test command (CI runs exactly this)
test: tools build vet unit fuzz

## bench: catalog and emulator benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./shared/... ./internal/...

## docs: regenerate docs/rules.md from the catalog
docs:
	$(GO) run ./cmd/kdaguard rules --format markdown > docs/rules.md

clean:
	rm -rf bin dist cdk.out

# Areas add their own targets (tools::, fuzz::, demo, invoke, synth) here.
-include mk/*.mk

# npm packages ship Go files (the CDK CLI's init templates) that would break
# `go vet ./...`: a go.mod makes node_modules a module of its own, outside ./...
tools::
	@if [ -d node_modules ] && [ ! -f node_modules/go.mod ]; then echo 'module ignored/node_modules' > node_modules/go.mod; fi
