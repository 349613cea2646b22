#!/bin/sh
# Stop the JACK server scripts/jackd-start.sh started, by its PID.
#
#   scripts/jackd-stop.sh [PID | --env-file FILE]    (default: $GROOVE_JACKD_PID)
set -u
pid="${GROOVE_JACKD_PID:-}"
if [ "${1:-}" = "--env-file" ]; then
    pid=$(sed -n 's/^export GROOVE_JACKD_PID=//p' "${2:?--env-file needs a path}")
elif [ -n "${1:-}" ]; then
    pid="$1"
fi
[ -n "$pid" ] || { echo "jackd-stop: no PID (pass one, --env-file FILE, or set GROOVE_JACKD_PID)" >&2; exit 1; }
case "$(ps -o comm= -p "$pid" 2>/dev/null)" in
    jackd*) ;;
    "") exit 0 ;;  # already gone
    *) echo "jackd-stop: process $pid is not jackd; left alone" >&2; exit 1 ;;
esac
kill -TERM "$pid" 2>/dev/null
i=50
while [ "$i" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; i=$((i - 1)); done
kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
exit 0
