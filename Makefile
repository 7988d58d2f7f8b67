# Samsa: the two commands of the Quick start, and the rest.
#   make demo   - install what is missing, build, run buffered_import on an embedded broker
#   make test   - build and run every test: unit, embedded broker, real Apache Kafka, package,
#                 and a short torture run; on librdkafka 2.0.2 and on 2.14.2
#   make torture - the delivery-guarantee torture test on real Kafka (MINUTES, NODES, SEED)
#   make bench   - benchmarks against a raw librdkafka loop and peers (bench/results/)
#   make test-sanitize - the unit and embedded suites under ASan+UBSan (build-asan/; part of make test)
#   make test-tsan - the unit and embedded suites under ThreadSanitizer (build-tsan/, against a
#                 librdkafka 2.14.2 built without C11 threads; part of make test)
#   make ... LIBRDKAFKA=2.14 - the same against librdkafka 2.14.2 (scripts/librdkafka-modern
#                 builds it from Debian's source package), in build-2.14/
LIBRDKAFKA ?= system
ifeq ($(LIBRDKAFKA),system)
BUILD ?= build
RDKAFKA_PREFIX :=
else ifeq ($(LIBRDKAFKA),2.14)
BUILD ?= build-2.14
RDKAFKA_PREFIX = $(shell scripts/librdkafka-modern | tail -1)
else
$(error LIBRDKAFKA=$(LIBRDKAFKA): use system (Debian's 2.0.2, the default) or 2.14)
endif
JOBS ?= $(shell nproc)

MINUTES ?= 5
NODES ?= 1

.PHONY: test-tsan build-tsan test-sanitize build-sanitize librdkafka-modern bench bench-quick all deps build test test-unit test-embedded test-kafka test-package test-torture torture demo clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMSA_WERROR=ON \
	  -DSAMSA_LIBRDKAFKA_PREFIX=$(RDKAFKA_PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# make test: the whole suite on Debian's librdkafka 2.0.2 (Kafka 3.9.1) and on 2.14.2 (Kafka
# 4.1.2, classic and KIP-848). make test LIBRDKAFKA=2.14: only the second.
test: build
ifeq ($(LIBRDKAFKA),system)
	@$(MAKE) --no-print-directory build LIBRDKAFKA=2.14 BUILD=build-2.14
	@scripts/run-tests both
	@$(MAKE) --no-print-directory test-sanitize
	@$(MAKE) --no-print-directory test-tsan
else
	@BUILD=$(BUILD) scripts/run-tests all
endif

# ASan+UBSan on Debian's librdkafka (not itself instrumented): only what the unit and
# embedded suites run.
SANITIZE_BUILD ?= build-asan
build-sanitize: deps
	@cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMSA_WERROR=ON \
	  -DSAMSA_SANITIZE=address,undefined >/dev/null
	@cmake --build $(SANITIZE_BUILD) -j $(JOBS) --target samsa_unit_tests samsa_integration_tests samsa_tool buffered_import status_page_app

test-sanitize: build-sanitize
	@BUILD=$(SANITIZE_BUILD) scripts/run-tests sanitize

# ThreadSanitizer: GCC 12's does not intercept glibc's C11 thrd_create, which Debian's
# librdkafka uses (it crashes in librdkafka's first thread), so this build uses 2.14.2 built
# on pthreads (scripts/librdkafka-modern --tsan).
TSAN_BUILD ?= build-tsan
build-tsan: deps
	@prefix=$$(scripts/librdkafka-modern --tsan | tail -1) && \
	  cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMSA_WERROR=ON \
	  -DSAMSA_SANITIZE=thread -DSAMSA_LIBRDKAFKA_PREFIX=$$prefix >/dev/null
	@cmake --build $(TSAN_BUILD) -j $(JOBS) --target samsa_unit_tests samsa_integration_tests samsa_tool buffered_import status_page_app

test-tsan: build-tsan
	@BUILD=$(TSAN_BUILD) scripts/run-tests sanitize

test-unit test-embedded test-kafka test-package test-torture: build
	@BUILD=$(BUILD) scripts/run-tests $(subst test-,,$@)

# The long torture run: make torture MINUTES=30 NODES=3 (SEED=N to replay a schedule).
torture: build
	@tests/torture/torture.py --minutes $(MINUTES) --nodes $(NODES) $(if $(SEED),--seed $(SEED))

demo: build
	@scripts/demo

# librdkafka 2.14.2 from Debian's source package into ~/.cache/samsa (once).
librdkafka-modern:
	@scripts/librdkafka-modern

# Benchmarks on real Kafka: Samsa vs a raw librdkafka loop, Kafka's Java consumer and kcat.
# Results in bench/results/librdkafka-VERSION/ (results.json, results.md, chart.png,
# micro.json). REPS=3 by default; Kafka 3.9.1 for librdkafka 2.0.2, 4.1.2 for 2.14
# (BENCH_KAFKA); BENCH_ARGS passes more options to bench/run.py, e.g.
# BENCH_ARGS="--cases auto-batch,java --topics b100-p8" or "--study fetch-queue".
REPS ?= 3
ifeq ($(LIBRDKAFKA),system)
BENCH_KAFKA ?= 3.9.1
else
BENCH_KAFKA ?= 4.1.2
endif
bench: build
	@scripts/install-deps --bench
	@bench/run.py --build $(BUILD) --kafka-version $(BENCH_KAFKA) --reps $(REPS) --micro $(BENCH_ARGS)

bench-quick: build
	@scripts/install-deps --bench
	@bench/run.py --build $(BUILD) --kafka-version $(BENCH_KAFKA) --reps 1 --quick $(BENCH_ARGS)

clean:
	rm -rf $(BUILD)
