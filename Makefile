# Two commands work on a fresh machine: `make demo` and `make test`.
# torch is installed first at the exact CPU build this machine keeps on disk; an unpinned
# torch would pull a multi-GB CUDA build. pyproject.toml itself asks only for torch>=2.2.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: demo test lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check torch==2.13.0
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $@

demo: $(INSTALLED)
	$(PY) -m benchmarks.demo

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -n auto

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
