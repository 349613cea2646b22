"""The segment kernel against a slow reference, and split into blocks of any size."""

import numpy as np
import pytest

from .songs import gm_song


@pytest.fixture
def rows():
    from engine.midi.frames import event_rows
    from engine.midi.notetable import EventTable

    r, end = event_rows(EventTable.from_midifile(gm_song(bars=1)), 48000)
    return r, end


def _synth(soundfont):
    from engine.audio.fluid import FluidSynth

    return FluidSynth(soundfont, 48000, reverb=True, chorus=True)


def reference(synth, rows, frames):
    """Obviously correct: one ctypes call per segment and per message, from Python."""
    lib, p = synth.lib, synth.ptr
    left, right = np.zeros(frames, np.float32), np.zeros(frames, np.float32)
    pos = 0
    for frame, status, d1, d2 in rows.tolist():
        if frame > pos:
            lib.fluid_synth_write_float(
                p, frame - pos, left.ctypes.data, pos, 1, right.ctypes.data, pos, 1
            )
            pos = frame
        kind, ch = status & 0xF0, status & 0x0F
        if kind == 0x90 and d2 > 0:
            lib.fluid_synth_noteon(p, ch, d1, d2)
        elif kind in (0x80, 0x90):
            lib.fluid_synth_noteoff(p, ch, d1)
        elif kind == 0xB0:
            lib.fluid_synth_cc(p, ch, d1, d2)
        elif kind == 0xC0:
            lib.fluid_synth_program_change(p, ch, d1)
        elif kind == 0xE0:
            lib.fluid_synth_pitch_bend(p, ch, d1 + 128 * d2)
        elif kind == 0xD0:
            lib.fluid_synth_channel_pressure(p, ch, d1)
        elif kind == 0xA0:
            lib.fluid_synth_key_pressure(p, ch, d1, d2)
    lib.fluid_synth_write_float(
        p, frames - pos, left.ctypes.data, pos, 1, right.ctypes.data, pos, 1
    )
    return left, right


def blocks(synth, rows, frames, sizes):
    """render_segments block by block (frames relative to each block), as a callback would."""
    from engine.audio._segments import compiled

    render_segments = compiled()

    left, right = np.zeros(frames, np.float32), np.zeros(frames, np.float32)
    pos = 0
    for n in sizes:
        n = min(n, frames - pos)
        if n <= 0:
            break
        lo, hi = np.searchsorted(rows[:, 0], [pos, pos + n])
        ev = rows[lo:hi].copy()
        ev[:, 0] -= pos
        assert render_segments(synth.ptr, ev, len(ev), n, left[pos:], right[pos:]) == len(ev)
        pos += n
    return left, right


def test_kernel_matches_the_reference_in_any_blocks(soundfont, rows):
    r, end = rows
    with _synth(soundfont) as s:
        ref = reference(s, r, end)
    assert np.abs(ref[0]).max() > 0.01
    rng = np.random.default_rng(5)
    for sizes in ([end], [64] * (end // 64 + 1), rng.integers(1, 3000, end).tolist()):
        with _synth(soundfont) as s:
            got = blocks(s, r, end, sizes)
        assert np.array_equal(got[0], ref[0]) and np.array_equal(got[1], ref[1])


def test_kernel_is_cached_across_processes(soundfont):
    """A second process loads the kernel's machine code from numba's cache (the C calls are
    by name, not by this process's addresses), so nothing compiles at start-up."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from engine.audio._segments import compiled\n"
        "from engine.audio.fluid import FluidSynth\n"
        f"s = FluidSynth({str(soundfont)!r}, 48000)\n"
        "k = compiled()\n"
        "buf = np.zeros(64, np.float32)\n"
        "k(s.ptr, np.array([[0, 0x90, 60, 100]]), 1, 64, buf, buf.copy())\n"
        "print(sum(k.stats.cache_hits.values()), sum(k.stats.cache_misses.values()))\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    hits, misses = map(int, runs[1].stdout.split())
    assert hits >= 1 and misses == 0, [r.stdout for r in runs]


def test_a_reset_row_silences_everything(soundfont):
    from engine.audio._segments import RESET, compiled

    render_segments = compiled()
    with _synth(soundfont) as s:
        ev = np.array([[0, 0x90, 60, 100], [4800, RESET, 0, 0]], np.int64)
        left, right = np.zeros(48000, np.float32), np.zeros(48000, np.float32)
        render_segments(s.ptr, ev, 2, 48000, left, right)
        assert np.abs(left[:4800]).max() > 0.01
        assert s.active_voices() == 0
        # reverb may ring for a moment after the reset; then nothing
        assert np.abs(left[24000:]).max() < 1e-4
