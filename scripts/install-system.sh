#!/bin/sh
# Debian/Ubuntu system packages: the JACK server (dummy backend for tests),
# PortAudio, FluidSynth's library with a General MIDI SoundFont (TimGM6mb, 6 MB;
# fluid-soundfont-gm is the fuller 140 MB one, found first when installed), and
# Python's venv module (split out of python3 on Debian/Ubuntu).
set -e
need=""
command -v jackd >/dev/null 2>&1 || need="$need jackd2"
command -v jack_lsp >/dev/null 2>&1 || need="$need jackd2"
ldconfig -p 2>/dev/null | grep -q libportaudio || need="$need libportaudio2"
ldconfig -p 2>/dev/null | grep -q libfluidsynth.so.3 || need="$need libfluidsynth3"
[ -e /usr/share/sounds/sf2/TimGM6mb.sf2 ] || [ -e /usr/share/sounds/sf2/FluidR3_GM.sf2 ] ||
  need="$need timgm6mb-soundfont"
python3 -c "import ensurepip, venv" >/dev/null 2>&1 || need="$need python3-venv"
[ -z "$need" ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
# jackd2 asks whether to enable real-time priority: answer for it.
echo "jackd2 jackd/tweak_rt_limits boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
