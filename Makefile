# ocibundle — build, test, demo, lint, fuzz, bench.
# `make demo` and `make test` are the only set-up commands a fresh machine needs.
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/bin:/usr/local/go/bin:$(PATH)

.PHONY: build test cross tools demo lint fuzz bench release man clean

build:
	CGO_ENABLED=0 go build -trimpath -o bin/ocibundle .

# Peer tools for the interop tests (oras, crane, regctl, staticcheck into
# .tools/bin; skopeo, umoci, zstd from Debian when root). Missing tools fail
# the interop tests under CI=true and are skipped loudly otherwise.
tools:
	./scripts/install-peers.sh

test: tools cross
	go test -race -count=1 ./...
	$(MAKE) fuzz FUZZTIME=10s

# Every release target builds without cgo, and go vet (test files included,
# so the tests compile too) passes for it. The tests themselves run only on
# the host (linux/amd64 in CI).
CROSS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64
cross:
	@set -e; for t in $(CROSS); do \
		echo "cross $$t"; \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 go build ./...; \
		GOOS=$${t%/*} GOARCH=$${t#*/} CGO_ENABLED=0 go vet ./...; \
	done

# The release: the six targets of make cross built reproducibly, SHA256SUMS,
# and the lot packed by ocibundle into an OCI layout (tag = version) and its
# export archive, in dist/ (scripts/release.sh says how; VERSION=v1.2.3 to
# name it). e2e TestReleaseReproducible runs it twice and compares the bytes.
release:
	./scripts/release.sh

# The man page, generated from the command definitions (ocibundle man, a
# hidden command: urfave/cli's ToMan), into bin/ocibundle.1; man -l reads it.
man: build
	bin/ocibundle man >bin/ocibundle.1

demo: build
	./scripts/demo.sh

lint: tools
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	go vet ./...
	staticcheck ./...

# Short fuzz runs of the parsers and of everything that reads hostile input
# (make test runs each for 10 s; FUZZTIME=5m make fuzz for a longer run).
FUZZTIME ?= 30s
FUZZ := layout:FuzzCheckStrictJSON layout:FuzzArchiveReader verify:FuzzVerifyArchive bundle:FuzzImport bundle:FuzzExtractTar layer:FuzzApply inventory:FuzzParse
fuzz:
	@set -e; for f in $(FUZZ); do \
		echo "fuzz $${f#*:} ($(FUZZTIME))"; \
		go test -run '^$$' -fuzz "^$${f#*:}$$" -fuzztime $(FUZZTIME) ./$${f%%:*}; \
	done

# The issue-6 harness (scripts/bench.sh: BENCH_SIZE=200M for a quick run; it
# writes BENCHMARKS.md), delta bundles (scripts/bench-delta.sh), the Go
# micro-benchmarks, and push/pull against a registry.
bench:
	./scripts/bench.sh
	./scripts/bench-delta.sh
	./scripts/bench-small.sh
	./scripts/bench-growth.sh
	go test -run '^$$' -bench . -benchmem ./compress ./bundle ./layout ./verify
	./scripts/bench-registry.sh

clean:
	rm -rf bin demo-out dist
