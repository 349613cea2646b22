#!/bin/sh
# Debian/Ubuntu system packages: the JACK server (dummy backend for tests) and PortAudio.
set -e
need=""
command -v jackd >/dev/null 2>&1 || need="$need jackd2"
ldconfig -p 2>/dev/null | grep -q libportaudio || need="$need libportaudio2"
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
