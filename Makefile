# The two commands of the README: `make report` and `make test`.
# Both find (or install) torch 2.11.0 first; no manual `export` is needed.

PYTHON := $(shell scripts/torch-python)
ifeq ($(PYTHON),)
$(error torch 2.11.0 could not be set up: see the messages above)
endif
export PATH := $(dir $(PYTHON)):$(PATH)
export LIBTORCH_USE_PYTORCH := 1

CARGO ?= cargo
BIN := target/release/report

.PHONY: report test build check lint bench clean

## Builds the whole report on the embedded sample (quick profile).
report: build
	$(BIN) build --profile quick

build:
	$(CARGO) build --release --locked

## Formatting, lints, unit and end-to-end tests.
test:
	$(CARGO) fmt --check
	$(CARGO) clippy --release --locked --all-targets -- -D warnings
	$(CARGO) test --release --locked
	bench/gpu-prepare.sh --check

check: build
	$(BIN) check

clean:
	rm -rf out
