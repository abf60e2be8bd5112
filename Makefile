# Koers — the two commands a newcomer needs are `make run` and `make test`.
# Both install what is missing first (`make setup`).

SWIFT        ?= swift
BENCH_DIR    := .bench
CC           ?= cc
APT_PACKAGES := libzmq3-dev libsqlite3-dev pkg-config
TEST_APT_PACKAGES := prometheus prometheus-alertmanager curl chromium chromium-driver fonts-dejavu-core poppler-utils

# Installs the Debian packages named in $(1) that are missing: apt-get update first, as
# root; otherwise says what to run.
define apt_install
missing=""; \
for p in $(1); do \
  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
done; \
if [ -z "$$missing" ]; then exit 0; fi; \
if [ "$$(id -u)" -ne 0 ]; then \
  echo "make: missing Debian packages:$$missing" >&2; \
  echo "make: run this as root, then try again:" >&2; \
  echo "    sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing" >&2; \
  exit 1; \
fi; \
echo "make: installing$$missing"; \
apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing
endef

.PHONY: setup test-setup python-deps build run test test-sanitized fuzz fuzz-build soak bench bench-quick clean council-sample

## setup: install libzmq3-dev, libsqlite3-dev and pkg-config with apt-get when missing (idempotent)
setup:
	@$(call apt_install,$(APT_PACKAGES))

## test-setup: the outside programs the tests run for real: Prometheus (and promtool), Alertmanager, curl, headless Chromium with its driver
test-setup:
	@$(call apt_install,$(TEST_APT_PACKAGES))

## build: debug build of every target
build: setup
	$(SWIFT) build

## run: the demo: the aggregator and the theme services as separate processes, 2022 → 2025 in about two minutes
run: setup
	$(SWIFT) build --product koers
	$$($(SWIFT) build --show-bin-path)/koers demo

## python-deps: the Python packages the tests use: jsonschema (documents against docs/schemas), pyzmq (a client from the spec),
##              schemathesis (the HTTP server against docs/openapi.yaml)
python-deps:
	@python3 -c 'import jsonschema' 2>/dev/null || { echo "make: installing jsonschema with pip"; python3 -m pip install -q jsonschema; }
	@python3 -c 'import zmq' 2>/dev/null || { echo "make: installing pyzmq with pip"; python3 -m pip install -q pyzmq; }
	@python3 -c 'import schemathesis' 2>/dev/null || { echo "make: installing schemathesis with pip"; python3 -m pip install -q schemathesis; }
	@python3 -c 'import selenium' 2>/dev/null || { echo "make: installing selenium with pip"; python3 -m pip install -q selenium; }

## test: every test suite, then each fuzz target for FUZZ_CI_SECONDS (15; about 3 minutes in all, most of it the fuzz build)
test: setup test-setup python-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	SWIFT=$(SWIFT) Fuzz/build.sh
	Fuzz/run.sh $(FUZZ_CI_SECONDS)

## test-sanitized: the unit suites (every test target but SystemTests) under ThreadSanitizer, then AddressSanitizer
##                 (with LeakSanitizer), each a full build of its own in .build-tsan and .build-asan
##                 Reports the toolchain causes (Mutex unseen by TSan, leaks in XCTest and Foundation) are suppressed:
##                 Fuzz/tsan-suppressions.txt and Fuzz/lsan-suppressions.txt say which and why. Not in `make test`:
##                 docs/reliability.md §7.3 has the times.
SANITIZED_SKIP := --skip '^SystemTests\.'
test-sanitized: setup
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/tsan-suppressions.txt \
	    $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan $(SANITIZED_SKIP)
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/lsan-suppressions.txt:print_suppressions=0 \
	    $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan $(SANITIZED_SKIP)

## fuzz: the libFuzzer targets (wire codec, plan loader, CSV import; Fuzz/README.md), each for FUZZ_SECONDS (default 60)
##       from its seeds in Fuzz/seeds; exits non-zero on a finding, whose input is in .build-fuzz/findings
FUZZ_SECONDS    ?= 60
FUZZ_CI_SECONDS ?= 15
fuzz: fuzz-build
	Fuzz/run.sh $(FUZZ_SECONDS)

## fuzz-build: builds the fuzz targets into .build-fuzz (instrumented for coverage, with AddressSanitizer)
fuzz-build: setup
	SWIFT=$(SWIFT) Fuzz/build.sh

## soak: SOAK_SECONDS (600) at SOAK_RATE (5,000) reports/s through a real release aggregator; its resident memory at
##       start, middle and end; exits non-zero when it grew by more than 10 %
SOAK_SECONDS ?= 600
SOAK_RATE    ?= 5000
soak: setup
	$(SWIFT) build -c release --product koers
	$(SWIFT) build -c release --product koers-bench
	$$($(SWIFT) build -c release --show-bin-path)/koers-bench soak --koers $$($(SWIFT) build -c release --show-bin-path)/koers \
	    --rate $(SOAK_RATE) --seconds $(SOAK_SECONDS)

## council-sample: docs/council-report-sample.md, the council report of the demo's store as of 2024-10-01 (plays the demo in 40 s)
COUNCIL_SAMPLE_DIR := .build/council-sample
council-sample: setup
	$(SWIFT) build --product koers
	$$($(SWIFT) build --show-bin-path)/koers demo --seconds 40 --quiet --http none --dir $(COUNCIL_SAMPLE_DIR) > $(COUNCIL_SAMPLE_DIR).log
	$$($(SWIFT) build --show-bin-path)/koers council-report --as-of 2024-10-01 --since 2024-07-01 --data $(COUNCIL_SAMPLE_DIR)/data \
	    --out docs/council-report-sample.md

## bench: release build, then three runs of every figure beside its C baselines (the durable relay, raw libzmq), each
##        as min/median/max, about 15 minutes; writes .bench/results.json and exits 1 when a target is missed.
##        BENCH_FLAGS passes options to `koers-bench all` (e.g. BENCH_FLAGS="--only ingest,latency")
BENCH_FLAGS ?=
bench: setup $(BENCH_DIR)/zmq_bench $(BENCH_DIR)/durable_relay
	$(call bench_all,--out $(BENCH_DIR)/results.json $(BENCH_FLAGS))

## bench-quick: one short run of every figure, for trying things out (its figures are not the benchmark's)
bench-quick: setup $(BENCH_DIR)/zmq_bench $(BENCH_DIR)/durable_relay
	$(call bench_all,--quick --out $(BENCH_DIR)/results-quick.json $(BENCH_FLAGS))

# Builds the release binaries and runs `koers-bench all` with the C baselines and $(1).
define bench_all
$(SWIFT) build -c release --product koers-bench
$(SWIFT) build -c release --product koers
$$($(SWIFT) build -c release --show-bin-path)/koers-bench all --c-bench $(BENCH_DIR)/zmq_bench --c-relay $(BENCH_DIR)/durable_relay \
    --koers $$($(SWIFT) build -c release --show-bin-path)/koers $(1)
endef

$(BENCH_DIR)/%: Benchmarks/c/%.c Benchmarks/c/bench_common.h
	@mkdir -p $(BENCH_DIR)
	$(CC) -O2 -Wall -o $@ $< -lzmq

## clean: remove build output (the sanitizer and fuzz builds too) and benchmark results
clean:
	rm -rf .build .build-fuzz .build-tsan .build-asan $(BENCH_DIR)
