# Bloom toolchain. `make` builds bin/bloomc; `make test` is what CI runs.
GO ?= go
PKGS := ./...

.PHONY: all build test vet fmt-check bench fuzz clean

all: build

build:
	$(GO) build -o bin/bloomc ./cmd/bloomc

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# go vet, then every test with the race detector.
test: fmt-check vet
	$(GO) test -race -timeout 20m $(PKGS)

# Benchmarks: the Go micro-benchmarks, then the whole-process workload
# table (bench/main.go) with ratios against the reference figures.
BENCHTIME ?= 1x
RUNS ?= 3
bench: build
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./lang ./runtime ./stdlib
	$(GO) run ./bench -runs $(RUNS)

# Fuzz each target for FUZZTIME (default 60s each).
FUZZTIME ?= 60s
fuzz:
	$(GO) test ./lang -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./transport -run '^$$' -fuzz '^FuzzDecodeFrame$$' -fuzztime $(FUZZTIME)

clean:
	rm -rf bin
