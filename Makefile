# The README's two commands: `make book` (set up, build the HTML book) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= default
STAMP := $(VENV)/.installed
# axe-core for the accessibility tests (tests/test_access.py), pinned in tests/axe/package-lock.json
AXE := tests/axe/node_modules/axe-core/axe.min.js

.PHONY: book book-student book-pdf assignments test lint format clean

book: $(STAMP)
	@$(BIN)/movierec book --profile $(PROFILE)

book-student: $(STAMP)
	@$(BIN)/movierec book --profile $(PROFILE) --edition student

# Both editions as PDF (Chromium prints them; no TeX): _build/pdf/movierec-{instructor,student}.pdf
book-pdf: $(STAMP)
	@$(BIN)/movierec book --profile $(PROFILE) --pdf

# The course chapters' exercises as otter-grader assignments, their keys from this profile's book:
# _build/assignments/NN_name/{student,autograder}/ (movierec grade grades a class's submissions)
assignments: $(STAMP)
	@$(BIN)/movierec book --profile $(PROFILE)
	@$(BIN)/movierec assign

test: $(STAMP) $(AXE) lint
	$(BIN)/python -m pytest

$(AXE): tests/axe/package.json tests/axe/package-lock.json
	@cd tests/axe && npm ci --no-audit --no-fund --loglevel=error
	@touch $(AXE)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/python -m movierec.book.lint

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(STAMP): requirements.txt pyproject.toml
	@echo "make: installing requirements.txt into $(VENV) (about 70 s the first time, on 2 cores)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . 2>&1 | grep -v "^WARNING: Location" || true
	@$(BIN)/python -c "import movierec, torch, jupyter_book" || { echo "make: the install failed: see the messages above"; exit 1; }
	@touch $(STAMP)
	@echo "make: installed; the tools are in $(VENV)/bin (or: source $(VENV)/bin/activate)"

clean:
	rm -rf _build book/executed book/_generated
