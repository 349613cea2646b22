#!/bin/sh
# The whole test suite, in the project's virtual environment, with a JACK
# server on its dummy backend for the live tests (no sound card needed).
set -e
cd "$(dirname "$0")/.."
env_file="${TMPDIR:-/tmp}/groove-jackd-$$.env"
if sh scripts/jackd-start.sh --env-file "$env_file" >/dev/null; then
    . "$env_file"
    trap 'sh scripts/jackd-stop.sh --env-file "$env_file"; rm -f "$env_file"' EXIT
fi
.venv/bin/python -m pytest -q "$@"
