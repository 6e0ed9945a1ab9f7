# Every target installs what it needs first (a virtual environment at .venv).
#
#   make book                          execute every chapter (profile paper) and build _build/html
#   make book PROFILE=ci               ... at the small ci sizes (seconds to a minute per chapter)
#   make book ONLY=01_problem          ... a book of some chapters only (quick look while writing)
#   make chapter CHAPTER=05_linear PARAMS="N=256 nu=1.2"
#                                      rerun one chapter with new values (Python literals) and
#                                      rebuild the HTML; an unknown parameter is an error (exit 2)
#   make pdf                           the whole book as a PDF: _build/latex/symdp-book.pdf
#                                      (same PROFILE/ONLY as book; reuses the executed chapters;
#                                      installs the Debian TeX packages it needs if missing)
#   make refresh-references            re-execute every chapter at ci and report every number
#                                      that moved beyond its tolerance; writes tests/notebooks/
#                                      only with ACCEPT=1
#   make tolerances                    execute the chapters under six CPU kernel settings and
#                                      derive tests/references/*.json from the spread, keeping the
#                                      samples other CPUs left there (17 min here;
#                                      ONLY=09_own_model,10_decreasing_returns: those chapters';
#                                      THIS_MACHINE_ONLY=1: drop other CPUs' samples, after a
#                                      change to the numerics)
#   make test                          ci book + unit tests + notebook regression against
#                                      tests/notebooks/ + the browser tests (headless Chromium on
#                                      _build/html); then the chapters and the unit tests again
#                                      under other CPU kernels (PORTABLE_KERNELS); installs the
#                                      Debian chromium package if missing
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
ACCEPT ?=
THIS_MACHINE_ONLY ?=
# The second pass of `make test`: torch's, MKL's and oneDNN's generic kernels, which round
# differently from the vector kernels a machine picks for itself, as another CPU would.
PORTABLE_KERNELS := ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE ONEDNN_MAX_CPU_ISA=SSE41
PORTABLE := _build/executed-portable

# Debian packages of `make pdf`: Jupyter Book's LaTeX builder runs xelatex through latexmk, with
# FreeSerif/FreeSans/FreeMono (Sphinx's xelatex fonts).
TEX_DEBS := latexmk texlive-xetex texlive-latex-recommended texlive-latex-extra \
	texlive-fonts-recommended fonts-freefont-otf
# Debian packages of the browser tests: the browser and the fonts its screenshots use.
CHROMIUM_DEBS := chromium fonts-liberation
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup test unit book pdf tex chromium chapter refresh-references tolerances clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

setup: $(STAMP)

book: $(STAMP)
	$(PY) -m symdp.book.build book --profile $(PROFILE) --jobs $(JOBS) --only "$$ONLY"

pdf: $(STAMP) tex
	$(PY) -m symdp.book.build book --profile $(PROFILE) --jobs $(JOBS) --only "$$ONLY" --builder pdflatex

# Installs the TeX packages that are missing (Debian/Ubuntu; apt-get, through sudo unless root).
tex:
	@if command -v dpkg-query >/dev/null; then \
	  missing=$$(for p in $(TEX_DEBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	  if [ -n "$$missing" ]; then \
	    echo "installing TeX packages:" $$missing; \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install \
	      -y -qq --no-install-recommends $$missing; \
	  fi; \
	elif ! command -v xelatex >/dev/null || ! command -v latexmk >/dev/null; then \
	  echo "error: make pdf needs xelatex and latexmk (TeX Live: $(TEX_DEBS))" >&2; exit 1; \
	fi

# Installs Chromium for the browser tests when it is missing (Debian/Ubuntu; apt-get, through sudo
# unless root). Playwright drives this browser and downloads none of its own.
chromium:
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then \
	  if command -v apt-get >/dev/null; then \
	    echo "installing Chromium: $(CHROMIUM_DEBS)"; \
	    $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install \
	      -y -qq --no-install-recommends $(CHROMIUM_DEBS); \
	  else \
	    echo "error: make test needs Chromium on PATH (chromium or chromium-browser)" >&2; exit 1; \
	  fi; \
	fi

chapter: $(STAMP)
	@test -n "$(CHAPTER)" || { echo 'error: name the chapter: make chapter CHAPTER=05_linear PARAMS="N=256 nu=1.2"' >&2; exit 2; }
	$(PY) -m symdp.book.build chapter $(CHAPTER) --profile $(PROFILE) --jobs $(JOBS) --params "$$PARAMS"

refresh-references: $(STAMP)
	$(PY) -m symdp.book.references refresh --jobs $(JOBS) $(if $(ACCEPT),--accept)

tolerances: $(STAMP)
	$(PY) -m symdp.book.references spread --jobs $(JOBS) --only "$$ONLY" \
	  $(if $(THIS_MACHINE_ONLY),--this-machine-only)

# The HTML book at the ci profile first (the browser tests open its pages), then one pytest run:
# the unit tests, the tests of the built HTML (tests/test_book_html.py, tests/test_browser.py:
# headless Chromium through Playwright) and the notebook regression (tests/test_notebooks.py: the executions the
# build just made against tests/notebooks/) and the rerun test (tests/test_rerun.py: every
# chapter executed with a second parameter set). Then the portability pass: the chapters executed
# again under PORTABLE_KERNELS, and the unit tests, the notebook regression and the claim checks
# on that execution. The sweeps' stored runs are reused there (rerunning them under generic
# kernels took 3.5 min more; their spread across kernels is in the tolerances, make tolerances).
# SYMDP_REQUIRE_BOOK=1: a missing book, execution or Chromium fails those tests instead of skipping.
test: $(STAMP) chromium
	$(PY) -m symdp.book.build book --profile ci --jobs $(JOBS)
	SYMDP_REQUIRE_BOOK=1 $(PY) -m pytest tests
	rm -rf $(PORTABLE)
	env $(PORTABLE_KERNELS) $(PY) -m symdp.book.references execute $(PORTABLE) --jobs $(JOBS)
	env $(PORTABLE_KERNELS) SYMDP_REQUIRE_BOOK=1 SYMDP_EXECUTED=$(PORTABLE) \
	  SYMDP_RERUN_EXECUTED=_build/executed-rerun $(PY) -m pytest tests \
	  --ignore tests/test_browser.py --ignore tests/test_book_html.py

unit: $(STAMP)
	$(PY) -m pytest tests

clean:
	rm -rf _build
