# The README's two commands: `make book` (set up, build the HTML book) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROFILE ?= default
STAMP := $(VENV)/.installed

.PHONY: book test clean

book: $(STAMP)
	$(BIN)/movierec book --profile $(PROFILE)

test: $(STAMP)
	$(BIN)/python -m pytest

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

clean:
	rm -rf _build book/executed
