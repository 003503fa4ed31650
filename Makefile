# The two set-up commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PJSUA2 := $(VENV)/.pjsua2

.PHONY: run test lint format typecheck run-deps system-deps web-deps bench clean pjsua2

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Packages a venv made before argos-translate-lt may hold: `argostranslate` owns the same
# module (installing over it, or removing it after, breaks that module) and brought torch
# and stanza (1.5 GB). Such a venv is made anew rather than patched.
REPLACED := argostranslate torch stanza

$(STAMP): pyproject.toml | $(BIN)/python
	@if $(BIN)/pip show --quiet $(REPLACED) >/dev/null 2>&1; then \
	  echo "$(VENV) holds one of $(REPLACED) (replaced by argos-translate-lt): making it anew"; \
	  rm -rf $(VENV) && $(MAKE) --no-print-directory $(BIN)/python; \
	fi
	$(BIN)/pip install --quiet -e '.[dev,argos]'
	touch $(STAMP)

# pjsua2 with 256 calls per process, built once and cached (else the 4-call PyPI wheel).
$(PJSUA2): $(STAMP) scripts/build-pjsua2.sh
	bash scripts/build-pjsua2.sh $(BIN)/python
	touch $(PJSUA2)

## Install the system packages a node uses, then start one on config/default.toml with an
## embedded Redis.
run: $(STAMP) run-deps $(PJSUA2)
	$(BIN)/switchboard serve --config config/default.toml

## Install what the tests need (system packages too) and run them.
test: $(STAMP) system-deps web-deps $(PJSUA2)
	$(BIN)/python -m pytest

## Rebuild or reinstall the 256-call pjsua2 (SWITCHBOARD_PJSUA2_REBUILD=1 forces a build).
pjsua2: $(STAMP)
	bash scripts/build-pjsua2.sh $(BIN)/python
	touch $(PJSUA2)

# Debian packages (apt-get, as root or through sudo; nothing when all are present). run-deps:
# what a running node uses (Kamailio, espeak-ng, sox, Apertium English-Spanish); system-deps:
# those and what the tests drive (sipp, Chromium, npm, baresip).
run-deps:
	bash scripts/system-deps.sh run

system-deps:
	bash scripts/system-deps.sh

# axe-core for the pages' accessibility check (npm, pinned, into build/npm).
web-deps: system-deps
	bash scripts/web-deps.sh

lint:
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format:
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# The benches apart: run as `python bench/x.py`, they import their neighbours as top-level
# modules (`_common`, `_bank`, `research.tours`), as mypy names bench/'s files when given
# that folder alone; the tests import some of the same files as `bench._bank`, and one run
# would find those files under two names.
typecheck:
	$(BIN)/mypy router forecasting scheduler i18n regions telephony switchboard tests
	$(BIN)/mypy bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
