# ocibundle — build, test, demo, lint, fuzz, bench.
# `make demo` and `make test` are the only set-up commands a fresh machine needs.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/bin:/usr/local/go/bin:$(PATH)

.PHONY: build test tools demo lint fuzz bench clean

build:
	go build -trimpath -o bin/ocibundle .

# Peer tools for the interop tests (oras, crane, regctl, staticcheck into
# .tools/bin; skopeo, umoci, zstd from Debian when root). Missing tools fail
# the interop tests under CI=true and are skipped loudly otherwise.
tools:
	./scripts/install-peers.sh

test: tools
	go test -race -count=1 ./...

demo: build
	./scripts/demo.sh

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	go vet ./...
	staticcheck ./...

# Short fuzz runs of the parsers.
FUZZTIME ?= 15s
fuzz:
	go test -run '^$$' -fuzz '^FuzzCheckStrictJSON$$' -fuzztime $(FUZZTIME) ./layout

bench:
	go test -run '^$$' -bench . -benchmem ./compress

clean:
	rm -rf bin demo-out
