"""Fixtures for the audio tests: a General MIDI SoundFont and libfluidsynth, or a skip.

Under CI=true a missing synthesizer is a failure: scripts/install-system.sh
installs libfluidsynth3 and timgm6mb-soundfont, and CI must run these tests.
"""

import os

import numpy as np
import pytest


def _unavailable(reason):
    msg = (
        f"audio test needs libfluidsynth and a GM SoundFont: {reason} "
        "(sh scripts/install-system.sh installs them)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(msg + "; CI=true, so this is a failure, not a skip")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def soundfont():
    """Path of the SoundFont groove finds (``engine.audio.soundfont.find_soundfont``)."""
    from engine.audio.fluid import available
    from engine.audio.soundfont import SoundFontError, find_soundfont

    why = available()
    if why:
        _unavailable(why)
    try:
        return find_soundfont().path
    except SoundFontError as exc:
        _unavailable(str(exc))


@pytest.fixture
def play(soundfont):
    """play(midi_file, sample_rate=48000, **synth_options) -> float32[frames, 2], dry
    (reverb and chorus off unless asked) so each sound is only itself."""
    from engine.audio.fluid import FluidSynth
    from engine.audio.render import render_rows
    from engine.midi.frames import event_rows
    from engine.midi.notetable import EventTable

    def run(mid, sample_rate=48000, **kw):
        kw = {"reverb": False, "chorus": False, **kw}
        with FluidSynth(soundfont, sample_rate, **kw) as synth:
            rows, end = event_rows(EventTable.from_midifile(mid), sample_rate)
            return render_rows(synth, rows, end, progress=False)

    return run


def mono(audio):
    return np.asarray(audio, np.float64).mean(axis=1)
