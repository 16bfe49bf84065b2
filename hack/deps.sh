#!/usr/bin/env bash
# Installs the Debian packages Ephemera needs to build, lint, test and run its local cluster.
# Idempotent: does nothing (quickly) when everything is already installed.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config
  libcpprest-dev libboost-dev libyaml-cpp-dev libssl-dev libspdlog-dev libfmt-dev zlib1g-dev
  libgtest-dev libgmock-dev
  # lint
  clang-format clang-tidy shellcheck
  # local cluster: etcd, runc, CNI plugins, kube-proxy's needs (containerd 2.x is built from the
  # Go module proxy by hack/build-kube.sh: Debian's 1.6 reports no container's user)
  etcd-server runc containernetworking-plugins iptables conntrack ethtool socat
  # tests: age checks our encryption interoperability
  age jq curl
  # tests: the HTML report is rendered in headless Chromium
  chromium
  # fuzzing: clang's libFuzzer and sanitizer runtimes (tests/fuzz)
  clang-14 libclang-rt-14-dev
  # tests: javac compiles the JVM the jvm reader's component test dumps (its jstack is the
  # baseline, its jlink makes the runtimes image's Java); Debian's python3 is the Python one
  openjdk-17-jdk-headless python3
  # benchmarks: the stack tools ours is compared with, and RE2 for the redaction baseline
  elfutils gdb libre2-dev
  # docs: `make diagrams` renders docs/diagrams/*.dot with Graphviz
  graphviz
  # JSON for the pure libraries (cpprestsdk stays inside the HTTP transport)
  nlohmann-json3-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} Debian packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps: need root to install: ${missing[*]}" >&2
  echo "deps: run 'sudo make deps' or install them yourself" >&2
  exit 1
fi

echo "deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done"
