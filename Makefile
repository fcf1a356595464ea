# gmnet: set-up, main job and tests. `make run` and `make test` do all the set-up they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SYS_STAMP := $(VENV)/.system-packages
APT_PACKAGES := graphviz chromium fonts-dejavu-core

.PHONY: run test install system-deps lint bench clean

run: $(STAMP)
	$(PY) -m gmnet.cli run

test: $(STAMP) $(SYS_STAMP)
	$(VENV)/bin/ruff check gmnet tests benchmarks
	$(PY) -m pytest

install: $(STAMP)

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "gmnet needs $(PYTHON) (Debian: apt-get install python3.11 python3.11-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[analysis,web,dev]'
	touch $(STAMP)

# Debian packages: graphviz's `dot` for diagrams, chromium for the browser tests.
$(SYS_STAMP): | $(VENV)/bin/python
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "gmnet: please install the Debian packages:$$missing (needs root)"; exit 1; fi; \
	fi
	touch $(SYS_STAMP)

system-deps: $(SYS_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check gmnet tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
