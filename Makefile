# The shop's everyday commands. Each creates .venv in the repository root when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every dependency, pinned with its hashes, resolved for Python 3.11 on Linux: `make lock`.
LOCK := requirements.lock
UV_VERSION := 0.13.8

.PHONY: run test lint bench lock clean

# The virtualenv holds exactly the locked set: it is made anew whenever the lock (or the
# project's metadata) changes, so nothing installed earlier lingers, and pip installs the
# lock's pins only (no resolution, every file checked against its hash).
$(STAMP): $(LOCK) pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	$(BIN)/pip check
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/shop run-dev

# pytest exits 5 when it collected nothing: that is a failure, not a pass.
test: $(STAMP)
	$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: no tests ran" >&2; exit 1; fi; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy --strict src tests bench examples

bench: $(STAMP)
	$(BIN)/python -m bench

# Resolve pyproject.toml's ranges again into the lock (after changing a dependency). uv
# resolves for the shop's Python and platform whatever this machine runs.
lock:
	$(PYTHON) -m venv $(VENV)-uv
	$(VENV)-uv/bin/pip install --quiet uv==$(UV_VERSION)
	$(VENV)-uv/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	    --python-platform linux --generate-hashes --custom-compile-command "make lock" --quiet -o $(LOCK)
	rm -rf $(VENV)-uv

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
