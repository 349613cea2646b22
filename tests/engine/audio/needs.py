"""The SoundFont the tests play, or a skip (a failure under CI=true) saying what is missing.

scripts/install-system.sh installs libfluidsynth3 and timgm6mb-soundfont, so CI must
run every synth test: there a missing synthesizer fails instead of skipping.
"""

import os

import pytest


def unavailable(reason):
    msg = (
        f"this test needs libfluidsynth and a GM SoundFont: {reason} "
        "(sh scripts/install-system.sh installs them)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(msg + "; CI=true, so this is a failure, not a skip")
    pytest.skip(msg)


def soundfont_or_skip() -> str:
    """Path of the SoundFont groove finds (``engine.audio.soundfont.find_soundfont``)."""
    from engine.audio.fluid import available
    from engine.audio.soundfont import SoundFontError, find_soundfont

    why = available()
    if why:
        unavailable(why)
    try:
        return str(find_soundfont().path)
    except SoundFontError as exc:
        unavailable(str(exc))
