# gmnet: set-up, main job and tests. `make run` and `make test` do all the set-up they need.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.system-run
TEST_STAMP := $(VENV)/.system-test
# Debian packages: graphviz's `dot` draws the diagram (make run's report); chromium runs the
# browser tests.
APT_RUN := graphviz fonts-dejavu-core
APT_TEST := chromium

.PHONY: run test install system-deps lint bench clean

run: $(STAMP) $(RUN_STAMP)
	mkdir -p out && $(PY) -m gmnet.cli run --report out/report.html

test: $(STAMP) $(RUN_STAMP) $(TEST_STAMP)
	$(VENV)/bin/ruff check gmnet tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m pytest

install: $(STAMP)

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "gmnet needs $(PYTHON) (Debian: apt-get install python3.11 python3.11-venv)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[analysis,web,dev]'
	touch $(STAMP)

# Install missing Debian packages (as root, or with sudo); otherwise say which are needed.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  elif command -v sudo >/dev/null; then sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "gmnet: please install the Debian packages:$$missing (needs root)"; exit 1; fi; \
	fi
endef

$(RUN_STAMP): | $(VENV)/bin/python
	$(call apt_install,$(APT_RUN))
	touch $(RUN_STAMP)

$(TEST_STAMP): | $(VENV)/bin/python
	$(call apt_install,$(APT_TEST))
	touch $(TEST_STAMP)

system-deps: $(RUN_STAMP) $(TEST_STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check gmnet tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
