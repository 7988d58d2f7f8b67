# Samsa: the two commands of the Quick start, and the rest.
#   make demo   - install what is missing, build, run buffered_import on an embedded broker
#   make test   - build and run every test: unit, embedded broker, real Apache Kafka, package,
#                 and a short torture run
#   make torture - the delivery-guarantee torture test on real Kafka (MINUTES, NODES, SEED)
BUILD ?= build
JOBS ?= $(shell nproc)

MINUTES ?= 5
NODES ?= 1

.PHONY: all deps build test test-unit test-embedded test-kafka test-package test-torture torture demo clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMSA_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@scripts/run-tests all

test-unit test-embedded test-kafka test-package test-torture: build
	@scripts/run-tests $(subst test-,,$@)

# The long torture run: make torture MINUTES=30 NODES=3 (SEED=N to replay a schedule).
torture: build
	@tests/torture/torture.py --minutes $(MINUTES) --nodes $(NODES) $(if $(SEED),--seed $(SEED))

demo: build
	@scripts/demo

clean:
	rm -rf $(BUILD)
