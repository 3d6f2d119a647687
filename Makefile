# gate-edge: `make demo` runs the gate on simulated hardware; `make test` runs every check.
.PHONY: demo test lint types unit bench bootstrap bootstrap-demo clean lock release check-arm64

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
	$(BIN)/python -m ruff check edge central tests bench hil_tests firmware deploy scripts setup.py
	$(BIN)/python -m ruff format --check edge central tests bench hil_tests firmware deploy scripts setup.py
	$(BIN)/lint-imports

types: bootstrap
	$(BIN)/python -m mypy
	$(BIN)/python -m mypy --config-file firmware/mypy.ini

unit: bootstrap
	$(BIN)/python -m pytest

test: lint types unit

bench: bootstrap
	$(BIN)/python bench/verify.py
	$(BIN)/python bench/decode.py --dataset ../shared/testdata/qr-photos
	$(BIN)/python bench/loop.py
	$(BIN)/python bench/presentations.py --dataset ../shared/testdata/qr-photos
	$(BIN)/python bench/mqtt.py
	$(BIN)/python bench/e2e.py
	$(BIN)/python bench/memory.py
	$(BIN)/python bench/gateio.py
	$(BIN)/python bench/online.py
	$(BIN)/python bench/collect.py

# Debian packages for the gates (amd64, arm64) in dist/, each with its locked wheels.
release: bootstrap
	deploy/debian/build-deb.sh

# The arm64 package installed, run, upgraded and rolled back in a bookworm arm64 root under qemu
# (slow: not part of `make test`; says SKIPPED where the machine cannot).
check-arm64: bootstrap
	deploy/debian/check-arm64.sh

# Re-lock the dependencies (requirements/*.txt) after changing them in pyproject.toml.
lock: bootstrap
	$(BIN)/python -m pip install -q "uv>=0.5"
	$(BIN)/python scripts/lock.py --uv $(BIN)/uv

clean:
	rm -rf $(VENV) .firmware-stubs .firmware-node .mypy_cache .ruff_cache .pytest_cache
