#!/bin/sh
# The whole test suite, in the project's virtual environment.
set -e
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q "$@"
