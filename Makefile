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

# The main job on a bundled example: a quantized drum loop rendered with 58% 16th swing,
# and what it sounds like through FluidSynth and a General MIDI SoundFont (groove doctor
# says which one), straight and swung, so the two can be compared by ear.
demo: system setup
	mkdir -p out
	$(BIN)/groove render examples/drum-loop.mid -p swing16-58 --timing 0 \
		-o out/drum-loop-straight.mid --wav out/drum-loop-straight.wav
	$(BIN)/groove render examples/drum-loop.mid -p swing16-58 -o out/drum-loop-swing16-58.mid \
		--wav out/drum-loop-swing16-58.wav
	$(BIN)/groove render examples/drum-loop.mid -p swing16-58 -o out/drum-loop-swing16-58.blocks.mid \
		--engine blocks --wav out/drum-loop-swing16-58.blocks.wav
	@echo "out/drum-loop-swing16-58.mid: the loop with the groove applied (groove info shows it)"
	@echo "out/drum-loop-swing16-58.wav: what it sounds like (FluidSynth, General MIDI kit)"
	@echo "out/drum-loop-straight.wav: the loop as it was, to compare"
	@if cmp -s out/drum-loop-swing16-58.wav out/drum-loop-swing16-58.blocks.wav; then \
		echo "both engines wrote the same audio, sample for sample"; \
	else \
		echo "out/drum-loop-swing16-58.blocks.wav differs from the direct engine's WAV:" \
			"they must be equal (a bug; tests/engine/audio/test_render_audio.py checks it)"; \
		exit 1; \
	fi

test: system setup lint
	sh scripts/run-tests.sh

# ruff (lint and format) and the import contract of pyproject.toml (import-linter).
lint: system setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

bench: setup
	$(BIN)/python bench/bench_inverse.py
	$(BIN)/python bench/bench_synth.py

clean:
	rm -rf $(VENV) build *.egg-info
