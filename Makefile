# Every target installs what it needs first (a virtual environment at .venv).
#
#   make book                          execute every chapter (profile paper) and build _build/html
#   make book PROFILE=ci               ... at the small ci sizes (seconds to a minute per chapter)
#   make book ONLY=01_problem          ... a book of some chapters only (quick look while writing)
#   make chapter CHAPTER=05_linear PARAMS="N=256 nu=1.2"
#                                      rerun one chapter with new values (Python literals) and
#                                      rebuild the HTML; an unknown parameter is an error (exit 2)
#   make refresh-references            re-execute every chapter at ci into tests/notebooks/
#   make test                          ci book + unit tests + nbval against tests/notebooks/
#   make unit                          unit tests only (no notebook execution)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PROFILE ?= paper
JOBS ?= 2
ONLY ?=
CHAPTER ?=
PARAMS ?=
# Passed through the environment, so quotes inside PARAMS (arch='relu') survive the shell.
export PARAMS ONLY
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: setup test unit nbval book chapter refresh-references clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

setup: $(STAMP)

book: $(STAMP)
	$(PY) -m symdp.bookbuild book --profile $(PROFILE) --jobs $(JOBS) --only "$$ONLY"

chapter: $(STAMP)
	@test -n "$(CHAPTER)" || { echo 'error: name the chapter: make chapter CHAPTER=05_linear PARAMS="N=256 nu=1.2"' >&2; exit 2; }
	$(PY) -m symdp.bookbuild chapter $(CHAPTER) --profile $(PROFILE) --jobs $(JOBS) --params "$$PARAMS"

refresh-references: $(STAMP)
	$(PY) -m symdp.bookbuild refresh-references --jobs $(JOBS) --only "$$ONLY"

# The HTML book at the ci profile first (the browser tests open its pages), then one pytest run:
# the unit tests and nbval, which re-executes tests/notebooks/*.ipynb and compares the outputs.
test: $(STAMP)
	$(PY) -m symdp.bookbuild book --profile ci --jobs $(JOBS)
	$(PY) -m pytest tests $(NBVAL)

unit: $(STAMP)
	$(PY) -m pytest tests

nbval: $(STAMP)
	$(PY) -m pytest tests/notebooks $(NBVAL)

clean:
	rm -rf _build
