#!/bin/sh
# Start a private JACK server (dummy driver: no sound card needed) for the live tests.
#
#   eval "$(scripts/jackd-start.sh)"      # or: scripts/jackd-start.sh --env-file FILE; . FILE
#
# Prints (and with --env-file also writes) the lines to source:
#   export JACK_DEFAULT_SERVER=<name>  JACK_NO_START_SERVER=1  GROOVE_JACKD_PID=<pid>
# Environment knobs: JACKD_NAME (default groove-test-<pid>), JACKD_RATE (48000),
# JACKD_PERIOD (256), JACKD_WAIT_USEC (dummy driver's wait per cycle; default one
# period in real time; smaller runs faster than real time), JACKD_TIMEOUT_SEC (10).
# Exit status: 0 ready; 1 jackd missing or not ready in time (its log is printed).
#
# The server runs in synchronous mode (-S): a client that is late (a Python
# callback waiting for the GIL, a loaded CI machine) stretches the dummy
# driver's cycle instead of being run one period late, so the frame-exact
# tests see JACK's graph order every cycle.  xruns still show in the status.
set -u
env_file=""
if [ "${1:-}" = "--env-file" ]; then env_file="${2:?--env-file needs a path}"; fi
command -v jackd >/dev/null 2>&1 || { echo "jackd-start: jackd is not installed (make system)" >&2; exit 1; }
name="${JACKD_NAME:-groove-test-$$}"
rate="${JACKD_RATE:-48000}"
period="${JACKD_PERIOD:-256}"
timeout="${JACKD_TIMEOUT_SEC:-10}"
log="${TMPDIR:-/tmp}/jackd-$name.log"
wait_opt=""
[ -n "${JACKD_WAIT_USEC:-}" ] && wait_opt="-w $JACKD_WAIT_USEC"
export JACK_NO_START_SERVER=1
# shellcheck disable=SC2086  # wait_opt is two words or none
nohup jackd -S -t 5000 -n "$name" -d dummy -r "$rate" -p "$period" $wait_opt >"$log" 2>&1 </dev/null &
pid=$!
tries=$((timeout * 10))
while [ "$tries" -gt 0 ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        echo "jackd-start: jackd exited at start-up; its log ($log):" >&2
        cat "$log" >&2
        exit 1
    fi
    if JACK_DEFAULT_SERVER="$name" jack_lsp >/dev/null 2>&1; then
        lines="export JACK_DEFAULT_SERVER=$name
export JACK_NO_START_SERVER=1
export GROOVE_JACKD_PID=$pid"
        echo "$lines"
        if [ -n "$env_file" ]; then
            tmp="$env_file.tmp.$$"
            echo "$lines" >"$tmp" && mv "$tmp" "$env_file"
        fi
        exit 0
    fi
    sleep 0.1
    tries=$((tries - 1))
done
echo "jackd-start: server $name not ready after ${timeout} s; its log ($log):" >&2
cat "$log" >&2
kill "$pid" 2>/dev/null
exit 1
