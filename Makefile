# Every target builds its own virtual environment in .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system demo test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

setup: $(BIN)/python
	$(BIN)/pip install -q -e '.[test,live,plot,audio]'
	$(BIN)/pip install -q -e examples/plugin

# Debian/Ubuntu packages for the live backends (JACK server, PortAudio).
system:
	sh scripts/install-system.sh

demo: setup
	$(BIN)/groove demo

test: system setup
	sh scripts/run-tests.sh

bench: setup
	$(BIN)/python bench/bench_inverse.py

clean:
	rm -rf $(VENV) build *.egg-info
