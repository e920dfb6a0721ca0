# Two commands on a fresh machine:
#   make demo   - create the virtual environment, install, run the demo on the bundled sample corpus
#   make test   - install what the tests need (Python and Debian packages) and run the whole suite
VENV   ?= .venv
PYTHON ?= python3
PY      = $(VENV)/bin/python
PIP     = $(PY) -m pip -q --disable-pip-version-check

.PHONY: demo test lint venv sysdeps bench clean

$(VENV)/.installed: setup.cfg pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(VENV)/bin/dossier demo

sysdeps:
	bash scripts/system-packages.sh

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

test: $(VENV)/.installed sysdeps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -n 2 -q

bench: $(VENV)/.installed sysdeps
	$(PY) bench/run.py

clean:
	rm -rf demo-out build *.egg-info .pytest_cache
