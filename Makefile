# Samsa: the two commands of the Quick start, and the rest.
#   make demo   - install what the demo needs, build, run buffered_import on an embedded broker
#   make test   - install the rest, build and run every test (scripts/test-all): unit, embedded
#                 broker, real Apache Kafka, its TLS and SASL/SCRAM listeners, PostgreSQL,
#                 package and a short torture run on librdkafka 2.14.2; unit, embedded and
#                 real Kafka on Debian's 2.0.2; unit and embedded under ASan+UBSan and
#                 ThreadSanitizer. Ends with a table of each step's time
#   make check  - the inner loop: unit and embedded on the default build
#   make torture - the delivery-guarantee torture test on real Kafka (MINUTES, NODES, SEED)
#   make bench   - benchmarks against a raw librdkafka loop and peers (bench/results/)
#   make test-sanitize / test-tsan - unit and embedded under ASan+UBSan / ThreadSanitizer
#
# librdkafka: 2.14.2 by default, built once per machine from Debian's source package by
# scripts/librdkafka-modern (into ~/.cache/samsa), in build/. LIBRDKAFKA=system builds
# against Debian 12's own 2.0.2 instead (the compatibility build), in build-system/.
LIBRDKAFKA ?= 2.14
ifeq ($(LIBRDKAFKA),2.14)
BUILD ?= build
# The prefix scripts/librdkafka-modern prints last; its failure stops make (an empty prefix
# would build against the system's librdkafka without a word).
RDKAFKA_PREFIX = $(or $(shell out=$$(scripts/librdkafka-modern) && printf '%s\n' "$$out" | tail -1),\
  $(error scripts/librdkafka-modern failed to build librdkafka 2.14.2: see its messages above))
else ifeq ($(LIBRDKAFKA),system)
BUILD ?= build-system
RDKAFKA_PREFIX =
else
$(error LIBRDKAFKA=$(LIBRDKAFKA): use 2.14 (librdkafka 2.14.2, the default) or system (Debian's 2.0.2))
endif
JOBS ?= $(shell nproc)
CMAKE_CONFIGURE = cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMSA_WERROR=ON \
  -DSAMSA_LIBRDKAFKA_PREFIX=$(RDKAFKA_PREFIX)

MINUTES ?= 5
NODES ?= 1

.PHONY: deps-demo test-tsan build-tsan test-sanitize build-sanitize librdkafka-modern bench bench-exactly-once bench-suite bench-quick all deps build test check test-unit test-embedded test-kafka test-secure test-package test-torture torture demo clean

all: build

deps:
	@scripts/install-deps

# TARGETS: build only these (make test's compatibility build builds what its suites run).
build: deps
	@$(CMAKE_CONFIGURE) -DSAMSA_BUILD_TESTS=ON -DSAMSA_BUILD_BENCH=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) $(if $(TARGETS),--target $(TARGETS))

# What the unit, embedded and real-Kafka suites run (the sanitizer and compatibility builds).
SUITE_TARGETS = samsa_unit_tests samsa_integration_tests samsa_tool buffered_import buffered_import_test exactly_once_import \
                transactional_copy samsa_topic_reader status_page_app protobuf_orders
# The sanitizer builds: -O1 with line tables only, for stack traces. Half the compile time of
# -O2 -g, and what the sanitizers' own documentation suggests for speed with usable reports.
SANITIZE_FLAGS = -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1"

# make test: every step of scripts/test-all, in two lanes, then the table of their times.
test:
	@scripts/install-deps
	@scripts/test-all

# The inner loop: unit and embedded on the default build (build/).
check: build
	@BUILD=$(BUILD) scripts/run-tests unit
	@BUILD=$(BUILD) scripts/run-tests embedded

# ASan+UBSan on the default librdkafka (2.14.2, not itself instrumented): only what the unit
# and embedded suites run.
SANITIZE_BUILD ?= build-asan
build-sanitize: deps
	@cmake -S . -B $(SANITIZE_BUILD) -G Ninja $(SANITIZE_FLAGS) -DSAMSA_WERROR=ON \
	  -DSAMSA_SANITIZE=address,undefined -DSAMSA_LIBRDKAFKA_PREFIX=$(RDKAFKA_PREFIX) >/dev/null
	@cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target $(SUITE_TARGETS)

test-sanitize: build-sanitize
	@BUILD=$(SANITIZE_BUILD) scripts/run-tests sanitize

# ThreadSanitizer: GCC 12's does not intercept glibc's C11 thrd_create, which Debian's
# librdkafka uses (it crashes in librdkafka's first thread), so this build uses 2.14.2 built
# on pthreads (scripts/librdkafka-modern --tsan).
TSAN_BUILD ?= build-tsan
build-tsan: deps
	@out=$$(scripts/librdkafka-modern --tsan) && prefix=$$(printf '%s\n' "$$out" | tail -1) && \
	  cmake -S . -B $(TSAN_BUILD) -G Ninja $(SANITIZE_FLAGS) -DSAMSA_WERROR=ON \
	  -DSAMSA_SANITIZE=thread -DSAMSA_LIBRDKAFKA_PREFIX=$$prefix >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target $(SUITE_TARGETS)

test-tsan: build-tsan
	@BUILD=$(TSAN_BUILD) scripts/run-tests sanitize

test-unit test-embedded test-kafka test-secure test-package test-torture: build
	@BUILD=$(BUILD) scripts/run-tests $(subst test-,,$@)

# The long torture run: make torture MINUTES=30 NODES=3 (SEED=N to replay a schedule).
torture: build
	@tests/torture/torture.py --minutes $(MINUTES) --nodes $(NODES) $(if $(SEED),--seed $(SEED))

# Only what the demo needs: its packages, librdkafka 2.14.2, the library, the samsa tool and
# buffered_import (no tests, no benchmarks: make test configures them in).
# (A prerequisite, not the recipe's first line: make expands a recipe's every line, and so
# the $(shell) that builds librdkafka, before it runs the first.)
demo: deps-demo
	@$(CMAKE_CONFIGURE) -DSAMSA_BUILD_TESTS=OFF -DSAMSA_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target samsa_tool buffered_import
	@BUILD=$(BUILD) scripts/demo

deps-demo:
	@scripts/install-deps --demo

# librdkafka 2.14.2 from Debian's source package into ~/.cache/samsa (once).
librdkafka-modern:
	@scripts/librdkafka-modern

# Benchmarks on real Kafka: Samsa vs the raw librdkafka loop and the peers. Results in
# bench/results/librdkafka-VERSION/ (make bench: efficiency.json and efficiency.md;
# make bench-suite: results.json, results.md, chart.png, micro.json). REPS=3 by default; Kafka 4.1.2 for librdkafka 2.14.2, 3.9.1 for 2.0.2
# (BENCH_KAFKA); BENCH_ARGS passes more options to bench/run.py, e.g.
# BENCH_ARGS="--cases auto-batch,java --topics b100-p8" or "--study fetch-queue".
REPS ?= 3
ifeq ($(LIBRDKAFKA),system)
BENCH_KAFKA ?= 3.9.1
else
BENCH_KAFKA ?= 4.1.2
endif
# make bench: Samsa's defaults against the fastest raw librdkafka loop and the peers, on 1,
# 8 and 1,000 partitions (bench/run.py --study efficiency; README, Benchmarks).
BENCH_CASES ?= raw-batch,raw-handoff,defaults,defaults-metrics,manual-defaults,manual-defaults-metrics,bench,franz,java,python
bench: build
	@scripts/install-deps --bench
	@bench/run.py --study efficiency --build $(BUILD) --kafka-version $(BENCH_KAFKA) --reps $(REPS) \
	  --eff-cases $(BENCH_CASES) $(BENCH_ARGS)

# What exactly-once into a database costs (docs/exactly-once.md): buffered_import against
# exactly_once_import on SQLite and PostgreSQL (a server of its own), on the embedded broker.
bench-exactly-once: build
	@scripts/install-deps
	@bench/exactly_once.py --build $(BUILD) --reps $(REPS)
	@bench/transactions.py --build $(BUILD) --reps $(REPS)

# The older, wider run: more cases and message sizes, SIGTERM, rebalance and micro figures.
bench-suite: build
	@scripts/install-deps --bench
	@bench/run.py --build $(BUILD) --kafka-version $(BENCH_KAFKA) --reps $(REPS) --micro $(BENCH_ARGS)

bench-quick: build
	@scripts/install-deps --bench
	@bench/run.py --build $(BUILD) --kafka-version $(BENCH_KAFKA) --reps 1 --quick $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
