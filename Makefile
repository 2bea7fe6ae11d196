# The two set-up commands of the README. Each installs the Debian packages it needs (as root, on a
# fresh Debian 12), configures, builds what it runs, and runs it.
BUILD ?= build
JOBS ?= $(shell nproc)
CTEST_TIMEOUT ?= 600
# `make test SANITIZE=address,undefined`: the same build with these sanitizers, in its own
# directory (build-address-undefined), running the C++ tests (ctest label "unit": the Catch2
# tests and the fuzz corpus replays).
SANITIZE ?=
# `make fuzz`: each libFuzzer target for FUZZ_SECONDS, built with clang in FUZZ_BUILD.
FUZZ_SECONDS ?= 60
FUZZ_BUILD ?= build-fuzz

comma := ,
CMAKE_FLAGS :=
CTEST_FLAGS :=
BUILD_TARGET :=
ifneq ($(SANITIZE),)
override BUILD := $(BUILD)-$(subst $(comma),-,$(SANITIZE))
CMAKE_FLAGS += -DFERRY_SANITIZE=$(SANITIZE)
CTEST_FLAGS += -L unit
BUILD_TARGET := --target unit_tests
export ASAN_OPTIONS ?= abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS ?= suppressions=$(CURDIR)/tests/lsan.supp
endif

# What building ferry needs (Catch2 too: CMake configures the tests with it), what the demo runs
# besides ferry, and what only the tests run.
BUILD_PACKAGES := build-essential cmake pkg-config ca-certificates \
	libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libyaml-dev libarchive-dev libzstd-dev libhttp-parser-dev \
	catch2 libcli11-dev
DEMO_PACKAGES := docker-registry skopeo openssl python3 curl
TEST_PACKAGES := containerd apache2-utils time chromium zsh zstd
# What the real-node tests' Kubernetes kit (../shared/kube) runs on: the tests and `make demo REAL_NODE=1`.
NODE_PACKAGES := containerd etcd-server containernetworking-plugins runc iptables iproute2 gcc libc6-dev
# Debian's kubectl (kubernetes-client), unless a kubectl is already on PATH: the demo and the tests
# drive the API server with it.
KUBECTL_PACKAGE := $(if $(shell command -v kubectl),,kubernetes-client)
# `make deb` (and the tests that build the package): CPack reads the binary's libraries with `file`.
DEB_PACKAGES := file
PACKAGES := $(BUILD_PACKAGES) $(DEMO_PACKAGES) $(TEST_PACKAGES) $(NODE_PACKAGES) $(KUBECTL_PACKAGE) $(DEB_PACKAGES)
# `make fuzz` also needs clang and its libFuzzer runtime.
FUZZ_PACKAGES := clang libclang-rt-dev

# What the demo builds and installs: ferry only (it embeds the sample apps, which the demo's
# stand-in cluster also runs), no tests; with REAL_NODE also the stand-in image and release_objects
# that demo/real_node.sh runs.
DEMO_TARGETS := ferry $(if $(REAL_NODE),standin release_objects)
DEMO_DEPS := $(BUILD_PACKAGES) $(DEMO_PACKAGES) $(KUBECTL_PACKAGE) $(if $(REAL_NODE),$(NODE_PACKAGES))

.PHONY: all deps demo-deps fuzz-deps build demo test deb fuzz clean

all: build

# Installs only what is missing, so repeated runs do not touch the network. The packages' own
# services (etcd, containerd, a registry on :5000) are kept from starting: tests start their own.
define install_missing
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: need root to install:" $$missing >&2; exit 1; fi; \
	  added=0; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; added=1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; rc=$$?; \
	  [ $$added = 0 ] || rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi
endef

deps:
	$(call install_missing,$(PACKAGES))

demo-deps:
	$(call install_missing,$(DEMO_DEPS))

fuzz-deps:
	$(call install_missing,$(FUZZ_PACKAGES))

CONFIGURE = test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DFERRY_WERROR=ON $(CMAKE_FLAGS)

build: deps
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS) $(BUILD_TARGET)

# REAL_NODE=1: then the install on a real Kubernetes node (../shared/kube; needs root).
demo: demo-deps
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS) --target $(DEMO_TARGETS)
	./demo/run.sh $(BUILD)/cli/ferry
	@if [ -n "$(REAL_NODE)" ]; then ./demo/real_node.sh $(BUILD); fi

# The release files the tests read are looked up (or fetched once) first, and said where from.
test: build
	@cd $(BUILD) && ctest -R '^setup: release files$$' --output-on-failure -V | sed -n 's/^[0-9]*: \(release files.*\)/\1/p'
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout $(CTEST_TIMEOUT) $(CTEST_FLAGS)

# Each fuzz target for FUZZ_SECONDS from its seeds (tests/fuzz/corpus/TARGET); a crash fails the
# run and leaves the input in $(FUZZ_BUILD)/crashes/ (tests/fuzz/run says how to keep it).
fuzz: deps fuzz-deps
	test -f $(FUZZ_BUILD)/CMakeCache.txt || \
	  cmake -S . -B $(FUZZ_BUILD) -DFERRY_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	./tests/fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS)

# A Debian package of ferry (binary and shell completions), its dependencies computed from the
# shared libraries it links: $(BUILD)/ferry_<version>_<arch>.deb.
deb:
	$(call install_missing,$(BUILD_PACKAGES) $(DEB_PACKAGES))
	$(CONFIGURE)
	cmake --build $(BUILD) -j $(JOBS) --target ferry completions
	cd $(BUILD) && cpack -G DEB

clean:
	rm -rf $(BUILD) $(BUILD)-*-* $(FUZZ_BUILD)
