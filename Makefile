# Koers — the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing first (`make setup`).

SWIFT        ?= swift
BENCH_DIR    := .bench
CC           ?= cc
APT_PACKAGES := libzmq3-dev libsqlite3-dev pkg-config
# What only the tests need: a real Alertmanager for the notifier tests.
TEST_APT_PACKAGES := prometheus-alertmanager

.PHONY: setup test-setup python-deps build run test bench clean

## setup: install libzmq3-dev and pkg-config with apt-get when missing (idempotent)
setup:
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(APT_PACKAGES)"

## test-setup: also what the tests need (prometheus-alertmanager), when missing
test-setup: setup
	@$(MAKE) --no-print-directory apt-install PACKAGES="$(TEST_APT_PACKAGES)"

# apt-install PACKAGES="…": apt-get update and install those that are missing, as root.
.PHONY: apt-install
apt-install:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "make setup: missing Debian packages:$$missing" >&2; \
	  echo "make setup: run this as root, then try again:" >&2; \
	  echo "    sudo apt-get update && sudo apt-get install -y$$missing" >&2; \
	  exit 1; \
	fi; \
	echo "make setup: installing$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing

## build: debug build of every target
build: setup
	$(SWIFT) build

## run: the demo: the aggregator and the theme services as separate processes, 2022 → 2025 in about two minutes
run: setup
	$(SWIFT) build --product koers
	$$($(SWIFT) build --show-bin-path)/koers demo

## python-deps: the Python packages the tests use: jsonschema (documents against docs/schemas), pyzmq (a client from the spec)
python-deps:
	@python3 -c 'import jsonschema' 2>/dev/null || { echo "make: installing jsonschema with pip"; python3 -m pip install -q jsonschema; }
	@python3 -c 'import zmq' 2>/dev/null || { echo "make: installing pyzmq with pip"; python3 -m pip install -q pyzmq; }

## test: every test suite
test: test-setup python-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## bench: release build; prints ratios against libzmq in C and writes .bench/results.json
bench: setup $(BENCH_DIR)/zmq_bench
	$(SWIFT) build -c release --product koers-bench
	$(SWIFT) build -c release --product koers
	$$($(SWIFT) build -c release --show-bin-path)/koers-bench all --c-bench $(BENCH_DIR)/zmq_bench \
	    --koers $$($(SWIFT) build -c release --show-bin-path)/koers --out $(BENCH_DIR)/results.json

$(BENCH_DIR)/zmq_bench: Benchmarks/c/zmq_bench.c
	@mkdir -p $(BENCH_DIR)
	$(CC) -O2 -Wall -o $@ $< -lzmq

## clean: remove build output and benchmark results
clean:
	rm -rf .build $(BENCH_DIR)
