"""Fixtures for the audio tests: a General MIDI SoundFont and libfluidsynth, or a skip.

Under CI=true a missing synthesizer is a failure (``needs.soundfont_or_skip``).
"""

import numpy as np
import pytest

from .needs import soundfont_or_skip


@pytest.fixture(scope="session")
def soundfont():
    """Path of the SoundFont groove finds (``engine.audio.soundfont.find_soundfont``)."""
    from pathlib import Path

    return Path(soundfont_or_skip())


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
