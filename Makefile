# Samsa: the two commands of the Quick start, and the rest.
#   make demo   - install what is missing, build, run buffered_import on an embedded broker
#   make test   - build and run every test: unit, embedded broker, real Apache Kafka, package
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-unit test-embedded test-kafka test-package demo clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAMSA_WERROR=ON >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@scripts/run-tests all

test-unit test-embedded test-kafka test-package: build
	@scripts/run-tests $(subst test-,,$@)

demo: build
	@scripts/demo

clean:
	rm -rf $(BUILD)
