# The two commands of the README: `make book` and `make test`.
# Both create .venv (if missing) with the pinned course environment first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: env book test test-fast exercises po lint clean help

help:
	@echo "make book       build both editions into _build/html (en, zh)"
	@echo "make test       run every test (package, book build, grading)"
	@echo "make test-fast  the package tests only (seconds)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make po         update the Chinese .po catalogs after editing"
	@echo "make lint       ruff"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--no-deps --no-build-isolation -e .
	@touch $@

env: $(STAMP)

book: env
	$(BIN)/python tools/build_book.py

test: env
	$(BIN)/python -m pytest

test-fast: env
	$(BIN)/python -m pytest -m "not slow"

exercises: env
	$(BIN)/python tools/exercises.py generate

po: env
	$(BIN)/python tools/build_book.py --update-po

lint: env
	$(BIN)/ruff check reglab tests tools benchmarks

clean:
	rm -rf _build
