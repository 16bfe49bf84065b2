# Ephemera's entry points. Each target installs what it needs on first use and is quick when cached.
# `make test` and `make demo` are the two commands a new machine needs (see README.md).
SHELL := /bin/bash
PRESET ?= dev
BUILD_DIR := build/$(PRESET)
CLUSTER := tests/cluster/cluster.sh

.PHONY: all deps kube build test unit-test integration-test demo bench release soak fuzz lint lint-all tsan format diagrams cluster-up cluster-down run clean

all: build

deps:  ## Debian packages (compilers, libraries, etcd, runc, CNI plugins, age)
	@hack/phase.sh deps hack/deps.sh

kube: deps  ## the pinned Kubernetes binaries, Helm and containerd, built from the Go module proxy into ~/.cache/ephemera
	@hack/phase.sh kube hack/build-kube.sh >/dev/null

build: deps  ## configure and build everything with the $(PRESET) preset
	@[ -f $(BUILD_DIR)/build.ninja ] || cmake --preset $(PRESET)
	@hack/phase.sh build cmake --build --preset $(PRESET)

unit-test: build  ## tests that need no cluster (labels unit and component)
	@ctest --preset $(PRESET) -L 'unit|component' -j2

integration-test: build cluster-up  ## tests against the local cluster (label integration)
	@ctest --preset $(PRESET) -L integration

# The phases of `make test` run in this order (the prerequisites, then the recipe), each printing
# how long it took; docs/testing.md says what each does.
test: build lint tsan cluster-up  ## everything: lint, the TSan build, unit, component and integration tests (brings the local cluster up)
	@hack/phase.sh "unit and component tests" ctest --preset $(PRESET) -j2 -LE integration
	@hack/phase.sh "integration tests" ctest --preset $(PRESET) -L integration

# The demo builds only what it runs, once: cluster-up builds the images the demo uses in
# build/release, and the plugin in the same run (no dev tree, no tests, not the hostile-snapshot
# test image). It prints how long it took from here.
demo: export EPHEMERA_DEMO_START := $(shell date +%s)
demo: export EPHEMERA_CLUSTER_IMAGES := pause target kubectl snapshot controller runtimes
demo: export EPHEMERA_EXTRA_BUILD_TARGETS := kubectl-ephemera
demo: cluster-up  ## the local cluster, a sample workload, and a look inside it
	@hack/phase.sh "demo build" cmake --build --preset release --target kubectl-ephemera
	@hack/demo.sh build/release

bench:  ## benchmarks (figures and ratios against baselines measured in the same run)
	@[ -f build/release/build.ninja ] || cmake --preset release
	@cmake --build --preset release --target ephemera-benchmarks
	@hack/bench.sh

RELEASE_DIR ?= build/release/dist
release: deps kube  ## what a user downloads, in RELEASE_DIR: the CLI tarball and its krew manifest, the chart, the images as OCI archives, SHA256SUMS
	@hack/phase.sh release hack/release.sh $(RELEASE_DIR)

SOAK_SESSIONS ?= 100
soak: build cluster-up  ## the long fault test: SOAK_SESSIONS sessions while the controller and the API server are killed
	@tests/e2e/fault_e2e_test.sh $(BUILD_DIR) $(SOAK_SESSIONS)

FUZZ_SECONDS ?= 60
fuzz: deps  ## libFuzzer targets in a clang build (build/fuzz), each run FUZZ_SECONDS from its seeds
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

lint: build  ## clang-format, shellcheck, layering; clang-tidy on what changed since hack/tidy-baseline
	@hack/phase.sh lint hack/lint.sh --changed $(BUILD_DIR)

lint-all: build  ## the same with clang-tidy on every translation unit (10-17 min on 2 cores)
	@hack/phase.sh lint-all hack/lint.sh --all $(BUILD_DIR)

tsan: deps  ## the concurrent parts' tests built with clang-14, ThreadSanitizer and -Wthread-safety (build/tsan)
	@hack/phase.sh tsan hack/tsan.sh

diagrams: deps  ## render the diagrams of docs/diagrams (Graphviz .dot -> .svg)
	@for f in docs/diagrams/*.dot; do dot -Tsvg "$$f" -o "$${f%.dot}.svg" && echo "diagrams: $${f%.dot}.svg"; done

format:  ## rewrite sources in place with clang-format
	@hack/lint.sh --fix

cluster-up: deps kube  ## start (or adopt) the local single-node cluster
	@hack/phase.sh cluster-up $(CLUSTER) up

cluster-down:  ## stop the local cluster and remove its processes, mounts and network state
	@$(CLUSTER) down

run: build cluster-up  ## the controller on this host against the local cluster, in the foreground
	@hack/run-controller.sh $(BUILD_DIR)

clean:
	rm -rf build
