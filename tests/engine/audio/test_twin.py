"""Two synths with grids half a block apart (``engine.audio.twin``): notes to +-16 frames."""

import numpy as np
import pytest

from .songs import gm_song


def test_route_sends_each_note_to_one_synth_and_everything_else_to_both():
    from engine.audio.twin import route

    rows = np.array(
        [
            [0, 0xC0, 5, 0],  # program: both
            [10, 0x90, 60, 100],  # phase 10: a (its block starts at 0, 64, ...)
            [20, 0x90, 60, 100],  # phase 20: b (32, 96, ...); the same key again
            [30, 0xB0, 7, 90],  # controller: both
            [40, 0x80, 60, 0],  # the oldest 60: a's
            [50, 0x90, 60, 0],  # velocity 0 is a note-off: the next 60, b's
            [60, 0x80, 61, 0],  # no note-on: both
            [70, 0xE0, 0, 64],  # bend: both
        ]
    )
    a, b = route(rows)
    assert a[:, 0].tolist() == [0, 10, 30, 40, 60, 70]
    assert b[:, 0].tolist() == [0, 20, 30, 50, 60, 70]


def test_a_pair_sounds_each_hit_from_the_nearest_half_block(soundfont):
    from engine.audio.render import render_rows
    from engine.audio.twin import SynthPair

    first = {}
    for f in range(1024, 1024 + 64, 5):
        with SynthPair(soundfont, 48000, reverb=False, chorus=False) as pair:
            audio = render_rows(pair, np.array([[f, 0x99, 37, 100]]), 4000, progress=False)
        first[f] = int(np.flatnonzero(np.abs(audio).max(axis=1) > 0)[0])
    near = {f: (f + 16) // 32 * 32 for f in first}  # the nearest multiple of 32
    lead = {first[f] - near[f] for f in first}
    assert len(lead) == 1, first
    err = np.array([near[f] - f for f in first])
    assert err.min() >= -16 and err.max() <= 15


def test_a_pair_plays_a_song_as_one_synth_does(soundfont):
    """The same music, only each note nearer its frame: the same level, every note ended."""
    from engine.audio.fluid import FluidSynth
    from engine.audio.render import render_rows
    from engine.audio.twin import SynthPair
    from engine.midi.frames import event_rows
    from engine.midi.notetable import EventTable

    rows, end = event_rows(EventTable.from_midifile(gm_song(bars=2)), 48000)
    with FluidSynth(soundfont, 48000) as one:
        solo = render_rows(one, rows, end, progress=False)
    with SynthPair(soundfont, 48000) as pair:
        both = render_rows(pair, rows, end, progress=False)
    assert np.abs(both[-64:]).max() < 1e-3  # every note released, rung out
    rms = lambda x: float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))  # noqa: E731
    assert rms(both) == pytest.approx(rms(solo), rel=0.05)
    assert abs(both.shape[0] - solo.shape[0]) < 0.2 * 48000
