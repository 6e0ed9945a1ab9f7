# Every target installs what it needs first (a virtual environment at .venv).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test book clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(VENV)/bin/python -m pytest

book: $(STAMP)
	$(VENV)/bin/symdp solve --N 128 --nu 1 --phi relu --seed 0 --threads 1

clean:
	rm -rf _build
