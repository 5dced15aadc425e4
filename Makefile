# Two commands from a fresh clone: `make lab` and `make test`. Both create .venv and
# install what they need; stamp files skip the install when pyproject.toml is unchanged.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
TOUR := notebooks/00_tour.ipynb

.PHONY: lab test lint demo bench docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[dev]"
	touch $@

$(VENV)/.installed-notebook: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[notebook,gym]"
	touch $@

# JupyterLab refuses to start as root (containers, CI machines) unless told it may.
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# The JupyterLab defaults Binder gets (binder/overrides.json), so local labs behave the same.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.json

$(LAB_OVERRIDES): binder/overrides.json | $(BIN)/python
	mkdir -p $(@D)
	cp $< $@

## lab: set up, then open JupyterLab on the tour notebook
lab: $(VENV)/.installed-notebook $(LAB_OVERRIDES)
	$(BIN)/jupyter lab $(TOUR) $(ALLOW_ROOT)

## test: set up, then ruff and the whole test suite (notebooks included)
test: $(VENV)/.installed-dev lint
	$(BIN)/python -m pytest tests --nbmake notebooks

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## demo: run the tour headlessly and write a standalone HTML page under build/
demo: $(VENV)/.installed-notebook
	$(BIN)/python tools/export_demo.py $(TOUR) build/tour.html

## bench: speed of the JAX kernels against vectorised numpy, as ratios
bench: $(VENV)/.installed-dev
	XLA_FLAGS="$$XLA_FLAGS --xla_cpu_enable_concurrency_optimized_scheduler=false" $(BIN)/python -m benchmarks

## docs: the API reference, generated from the docstrings, under build/docs/
docs: $(VENV)/.installed-dev
	$(BIN)/python docs/build_api.py build/docs

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis
