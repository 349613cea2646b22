#!/bin/sh
# Debian/Ubuntu system packages: the JACK server (dummy backend for tests),
# PortAudio, and Python's venv module (split out of python3 on Debian/Ubuntu).
set -e
need=""
command -v jackd >/dev/null 2>&1 || need="$need jackd2"
command -v jack_lsp >/dev/null 2>&1 || need="$need jackd2"
ldconfig -p 2>/dev/null | grep -q libportaudio || need="$need libportaudio2"
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need="$need python3-venv"
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
# jackd2 asks whether to enable real-time priority: answer for it.
echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
