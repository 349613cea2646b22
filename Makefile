# Every target builds its own virtual environment in .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system demo test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install -q -e '.[test,live,plot,audio]'
	$(BIN)/pip install -q -e examples/plugin

# Debian/Ubuntu packages for the live backends (JACK server, PortAudio).
system:
	sh scripts/install-system.sh

# The main job on a bundled example: a quantized drum loop rendered with 58% 16th swing.
demo: system setup
	mkdir -p out
	$(BIN)/groove render examples/drum-loop.mid -p swing16-58 -o out/drum-loop-swing16-58.mid
	$(BIN)/groove render examples/drum-loop.mid -p swing16-58 -o out/drum-loop-swing16-58.blocks.mid \
		--engine blocks --wav out/drum-loop-swing16-58.wav
	@echo "out/drum-loop-swing16-58.mid: the loop with the groove applied (groove info shows it)"
	@echo "out/drum-loop-swing16-58.wav: what it sounds like, through the block engine"

test: system setup
	sh scripts/run-tests.sh

# ruff (lint and format) and the import contract of pyproject.toml (import-linter).
lint: system setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/bench_inverse.py

clean:
	rm -rf $(VENV) build *.egg-info
