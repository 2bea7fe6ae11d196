# The two set-up commands of the README. Each installs the Debian packages it needs (as root, on a
# fresh Debian 12), configures, builds, and runs.
BUILD ?= build
JOBS ?= $(shell nproc)
CTEST_TIMEOUT ?= 600

PACKAGES := build-essential cmake pkg-config ca-certificates \
	libcurl4-openssl-dev libssl-dev nlohmann-json3-dev libyaml-cpp-dev libyaml-dev libarchive-dev libzstd-dev libhttp-parser-dev \
	catch2 libcli11-dev \
	docker-registry skopeo containerd apache2-utils openssl python3 curl time chromium

.PHONY: all deps build demo test clean

all: build

# Installs only what is missing, so repeated runs do not touch the network.
deps:
	@missing=$$(for p in $(PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: need root to install:" $$missing >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DFERRY_WERROR=ON

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./demo/run.sh $(BUILD)/cli/ferry

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout $(CTEST_TIMEOUT)

clean:
	rm -rf $(BUILD)
