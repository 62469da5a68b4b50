# The two commands of the README: `make book` and `make test`.
# Both create .venv (if missing) with the pinned course environment first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: env book test test-fast exercises check lab-instructor grading-setup collect grade formgrader export screenshots po lint clean help

help:
	@echo "make book       build both editions into _build/html (en, zh)"
	@echo "make test       run every test (package, book build, grading)"
	@echo "make test-fast  the package tests only (seconds)"
	@echo "make exercises  regenerate exercises/ from solutions/"
	@echo "make check NB=exercises/<a>/<nb>.ipynb   (students) run a notebook's tests"
	@echo "make lab-instructor   (instructors) JupyterLab with all of nbgrader's tools"
	@echo "make grading-setup [GRADING=~/grading]   (instructors) create the grading folder"
	@echo "make collect A=<assignment> FROM=<folder|zip> [GRADING=...]"
	@echo "make grade [A=<assignment>] [GRADING=...] [GRADE_FLAGS=...]  sandboxed autograde, feedback, grades.csv"
	@echo "make formgrader [GRADING=...]   (instructors) JupyterLab in the grading folder: mark the written answers"
	@echo "make export [GRADING=...]       (instructors) write grades.csv again, with the marks given by hand"
	@echo "make po         update the Chinese .po catalogs after editing"
	@echo "make lint       ruff"

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		-r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		--no-deps --no-build-isolation -e .
	$(BIN)/python tools/lab.py student
	@touch $@

env: $(STAMP)

book: env
	$(BIN)/python tools/build_book.py

# Two pytest processes side by side: the tests of the built book (its
# build executes the chapters one after another, on one core) and all the
# others (grading, package). The book's report is printed after the rest.
# test_downloads.py comes first: it starts executing the downloaded
# notebooks in the background, beside the other tests of the built book.
BOOK_TESTS := tests/test_downloads.py tests/test_book.py tests/test_links.py \
              tests/test_site.py
test: env
	@log=$$(mktemp); \
	$(BIN)/python -m pytest --durations=10 $(BOOK_TESTS) >$$log 2>&1 & \
	book=$$!; \
	$(BIN)/python -m pytest --durations=15 $(BOOK_TESTS:%=--ignore=%); \
	rest=$$?; wait $$book; status=$$?; \
	echo "=== the book's tests ($(BOOK_TESTS)) ==="; cat $$log; rm -f $$log; \
	test $$rest -eq 0 && test $$status -eq 0

test-fast: env
	$(BIN)/python -m pytest -m "not slow"

exercises: env
	$(BIN)/python tools/exercises.py generate

# Students: check a notebook before handing it in (exit 1 if a test fails).
check: env
	@test -n "$(NB)" || { echo "usage: make check NB=exercises/<assignment>/<notebook>.ipynb"; exit 2; }
	$(BIN)/python tools/exercises.py validate $(NB)

# Instructors: JupyterLab with nbgrader's instructor tools (the
# environment's own JupyterLab shows students the Validate button only;
# see tools/lab.py).
lab-instructor: env
	JUPYTER_CONFIG_PATH=$(CURDIR)/tools/jupyter-instructor $(BIN)/jupyter lab

# Instructors: grading happens in a folder outside the repository.
GRADING ?= $(HOME)/grading

grading-setup: env
	$(BIN)/python tools/grade.py setup $(GRADING)

collect: env
	@test -n "$(A)" -a -n "$(FROM)" || { echo "usage: make collect A=<assignment> FROM=<folder or .zip of <student>_*.ipynb>"; exit 2; }
	$(BIN)/python tools/grade.py collect $(GRADING) $(A) $(FROM)

# Needs bubblewrap (apt-get install bubblewrap). GRADE_FLAGS: e.g.
# "--jobs 8 --memory 2048 --timeout 60" (see tools/grade.py grade --help).
grade: env
	$(BIN)/python tools/grade.py grade $(GRADING) $(A) $(GRADE_FLAGS)

# The formgrader needs the grading folder as the server's root (it reads
# nbgrader_config.py and gradebook.db there): Nbgrader menu > Formgrader >
# Manual Grading marks the written answers. Then `make export`.
formgrader: env
	@test -f "$(GRADING)/gradebook.db" || { echo "no gradebook in $(GRADING): run make grading-setup (and make grade) first"; exit 2; }
	cd "$(GRADING)" && JUPYTER_CONFIG_PATH=$(CURDIR)/tools/jupyter-instructor $(CURDIR)/$(BIN)/jupyter lab

export: env
	$(BIN)/python tools/grade.py export $(GRADING)

# The browser tests save screenshots in _build/screenshots; the README
# shows the copies in docs/screenshots.
screenshots:
	mkdir -p docs/screenshots && cp _build/screenshots/*.png docs/screenshots/

po: env
	$(BIN)/python tools/build_book.py --update-po

lint: env
	$(BIN)/ruff check reglab reglab_jupyter tests tools benchmarks

clean:
	rm -rf _build
