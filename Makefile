# gate-edge: `make demo` runs the gate on simulated hardware; `make test` runs every check.
.PHONY: demo test lint types unit bench bootstrap bootstrap-demo clean

VENV := .venv
BIN := $(VENV)/bin

# `make demo` installs only what the demo uses; `make test` (and its parts) everything else too.
bootstrap:
	@scripts/bootstrap.sh test

bootstrap-demo:
	@scripts/bootstrap.sh demo

demo: bootstrap-demo
	$(BIN)/gate-edge demo

lint: bootstrap
	$(BIN)/python -m ruff check edge central tests bench hil_tests firmware
	$(BIN)/python -m ruff format --check edge central tests bench hil_tests firmware
	$(BIN)/lint-imports

types: bootstrap
	$(BIN)/python -m mypy
	$(BIN)/python -m mypy --config-file firmware/mypy.ini

unit: bootstrap
	$(BIN)/python -m pytest

test: lint types unit

bench: bootstrap-demo
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/decode.py --dataset ../shared/testdata/qr-photos
	$(BIN)/python bench/loop.py
	$(BIN)/python bench/mqtt.py
	$(BIN)/python bench/e2e.py
	$(BIN)/python bench/gateio.py
	$(BIN)/python bench/online.py

clean:
	rm -rf $(VENV) .firmware-stubs .firmware-node .mypy_cache .ruff_cache .pytest_cache
