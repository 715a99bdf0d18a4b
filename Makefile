# longthink: `make reproduce` runs every notebook (PROFILE=tiny by default), `make test` runs the test suite.
# Both create .venv on first use. Targets are files where that makes sense, so finished work is not redone.
SHELL := /bin/bash
PROFILE ?= tiny
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNS := runs/$(PROFILE)
# The hub switches are set in one place, by the kit itself (longthink/env.py): off for smoke and tiny, untouched
# for the paper profile.
export MPLBACKEND := Agg

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
EXECUTED := $(patsubst notebooks/%,$(RUNS)/notebooks/%,$(NOTEBOOKS))

.DEFAULT_GOAL := help
.PHONY: help setup lab test test-fast reproduce report doctor list clean clean-venv
LAB_ARGS ?=

help: ## show this help
	@grep -hE '^[a-zA-Z%_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  \033[1m%-20s\033[0m %s\n", $$1, $$2}'
	@echo "  PROFILE=smoke|tiny|paper (default tiny), e.g. make reproduce PROFILE=smoke"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

setup: $(STAMP) ## create .venv and install longthink with pinned dependencies, JupyterLab included (once)

# The server's root is the checkout (recipes/, runs/ and docs/ are reachable) and the lab opens on notebooks/.
# MPLBACKEND=Agg (exported above for batch runs) is dropped, so the kernels draw figures inline. Jupyter refuses
# to run as root unless told (containers often are root).
lab: $(STAMP) ## open JupyterLab on notebooks/ (live sliders, exercises); LAB_ARGS="--no-browser --port 8890"
	env -u MPLBACKEND $(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

test: $(STAMP) ## run the whole test suite (unit tests, recipes, CLI, every notebook with the smoke profile)
	$(BIN)/python -m pytest -q

test-fast: $(STAMP) ## unit tests only (skips notebook and multi-process runs)
	$(BIN)/python -m pytest -q -m "not slow"

reproduce: $(RUNS)/REPORT.md ## run every notebook in order, then write runs/$(PROFILE)/REPORT.md and REPORT.html

$(RUNS)/notebooks/%.ipynb: notebooks/%.ipynb $(STAMP)
	$(BIN)/longthink run $(shell echo $* | sed -E 's/^[0-9]{2}_//') --profile $(PROFILE)

$(RUNS)/REPORT.md: $(EXECUTED)
	$(BIN)/longthink report --profile $(PROFILE)

reproduce-%: $(STAMP) ## run one notebook, e.g. make reproduce-s1 PROFILE=smoke
	$(BIN)/longthink run $* --profile $(PROFILE)

report: $(STAMP) ## compare runs/$(PROFILE)/*/metrics.json with expected/ and rewrite the report
	$(BIN)/longthink report --profile $(PROFILE)

doctor: $(STAMP) ## print python, torch, GPU, vLLM, the cache folder and free disk
	$(BIN)/longthink doctor

list: $(STAMP) ## list the notebooks
	$(BIN)/longthink list

clean: ## remove caches and the temp files killed runs leave in runs/ and $$LONGTHINK_CACHE (never results)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -print0 | xargs -0 rm -rf
	rm -rf .pytest_cache build *.egg-info utils/*.egg-info
	if [ -x $(BIN)/longthink ]; then $(BIN)/longthink clean; else find runs -name '.*.tmp' -prune -exec rm -rf {} + 2>/dev/null || true; fi

clean-venv: ## remove the virtual environment (reinstalled by the next make test / make reproduce)
	rm -rf $(VENV)
