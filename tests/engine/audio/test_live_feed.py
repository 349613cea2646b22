"""The compiled synth feed (``engine.audio._live_feed``) against ``LiveSynth`` itself.

The same block rows, in the same block sizes, with the same panics and stops, go
to ``LiveSynth.render`` (messages as a backend writes them) and to the kernel
(rows as the live kernel's ``process_block`` writes them): the samples must be
identical, bit for bit.
"""

import re

import numpy as np
import pytest

SR = 48000


def _msg(status, d1, d2):
    """The bytes a backend writes for a row (1, 2 or 3 of them)."""
    kind = status & 0xF0
    if status >= 0xF0:
        return bytes((status, d1, d2)) if status == 0xF2 else bytes((status,))
    if kind in (0xC0, 0xD0):
        return bytes((status, d1))
    return bytes((status, d1, d2))


def _stream(seed, frames):
    """(absolute frame, status, d1, d2) rows: notes on three channels, the sustain pedal on
    channel 1, sostenuto on channel 2, programs, controllers, bends, pressure and clock
    bytes; sorted by frame, several at one frame now and then."""
    rng = np.random.default_rng(seed)
    ev = [(0, 0xC0, 19, 0), (0, 0xC1, 0, 0), (0, 0xC2, 48, 0), (0, 0xFA, 0, 0)]
    for f in range(0, frames, SR // 48):
        ev.append((f, 0xF8, 0, 0))  # MIDI clock: nothing for the synth
    t = 100
    while t < frames - 4000:
        ch = int(rng.integers(0, 3)) if rng.random() < 0.8 else 9
        key = int(rng.integers(36, 84))
        ev.append((t, 0x90 | ch, key, int(rng.integers(40, 127))))
        off = t + int(rng.integers(200, 6000))
        if rng.random() < 0.2:
            ev.append((off, 0x90 | ch, key, 0))  # note-on velocity 0
        else:
            ev.append((off, 0x80 | ch, key, 64))
        r = rng.random()
        if r < 0.15:
            ev.append((t, 0xB1, 64, 127 if rng.random() < 0.6 else 0))
        elif r < 0.25:
            ev.append((t, 0xB2, 66, 127 if rng.random() < 0.6 else 0))
        elif r < 0.35:
            ev.append((t, 0xE0 | ch, int(rng.integers(0, 128)), int(rng.integers(0, 128))))
        elif r < 0.4:
            ev.append((t, 0xD0 | ch, int(rng.integers(0, 128)), 0))
        elif r < 0.45:
            ev.append((t, 0xA0 | ch, key, int(rng.integers(0, 128))))
        elif r < 0.5:
            ev.append((t, 0xB0 | ch, 7, int(rng.integers(40, 128))))
        t += int(rng.integers(0, 900))
    return sorted(ev, key=lambda e: e[0])


def _blocks(stream, sizes, panic_at=(), stop_at=()):
    """[(frames, rows int32, panic, stop)]: the stream cut into blocks, a panic's note-offs
    and All Notes Off (as the kernel writes them) at frame 0 of a panic or stop block."""
    out = []
    pos = 0
    i = 0
    for k, n in enumerate(sizes):
        rows = []
        panic, stop = k in panic_at, k in stop_at
        if panic or stop:
            rows += [(0, 0x80 | ch, key, 0) for ch in (0, 1, 2) for key in (48, 60, 72)]
            rows += [(0, 0xB0 | ch, 123, 0) for ch in (0, 1, 2)]
        while i < len(stream) and stream[i][0] < pos + n:
            f, st, a, b = stream[i]
            rows.append((f - pos, st, a, b))
            i += 1
        arr = np.array(rows, np.int32).reshape(-1, 4)
        out.append((n, arr, panic, stop))
        pos += n
    return out


def _render_live_synth(soundfont, blocks):
    from engine.audio.live import LiveSynth

    ls = LiveSynth(soundfont, SR, 4096)
    total = sum(b[0] for b in blocks)
    left, right = np.zeros(total, np.float32), np.zeros(total, np.float32)
    pos = 0
    try:
        for n, rows, panic, stop in blocks:
            msgs = [(int(f), _msg(int(s), int(a), int(b))) for f, s, a, b in rows]
            ls.render(msgs, n, left[pos : pos + n], right[pos : pos + n], panic, stop)
            pos += n
        return left, right, ls.dropped
    finally:
        ls.close()


def _render_feed(soundfont, blocks):
    from engine.audio._live_feed import LiveFeed, feed

    lf = LiveFeed(soundfont, SR, 4096)
    lf.prepare()
    k = feed.compiled
    total = sum(b[0] for b in blocks)
    left, right = np.zeros(total, np.float32), np.zeros(total, np.float32)
    pos = 0
    try:
        for n, rows, panic, stop in blocks:
            # the callback's rows: a fixed-capacity buffer, n_ev of them valid
            ev = np.zeros((max(len(rows), 1) + 7, 4), np.int32)
            ev[: len(rows)] = rows
            k(lf.state, lf.rows, ev, len(rows), n, left[pos : pos + n], right[pos : pos + n],
              panic, stop)  # fmt: skip
            pos += n
        return left, right, lf.dropped
    finally:
        lf.close()


SIZES = {
    "64": [64] * 1500,
    "256": [256] * 380,
    "odd": [1, 63, 65, 127, 200, 333, 47, 1000, 17] * 40,
}


@pytest.mark.parametrize("sizes", list(SIZES))
def test_feed_plays_what_live_synth_plays(soundfont, sizes):
    sz = SIZES[sizes]
    total = sum(sz)
    stream = _stream(3, total)
    k = len(sz)
    blocks = _blocks(stream, sz, panic_at={k // 4, k // 2}, stop_at={(2 * k) // 3})
    ref_l, ref_r, ref_drop = _render_live_synth(soundfont, blocks)
    got_l, got_r, drop = _render_feed(soundfont, blocks)
    assert np.abs(ref_l).max() > 0.01  # it sounded
    assert drop == ref_drop == 0
    assert np.array_equal(got_l, ref_l) and np.array_equal(got_r, ref_r)


def test_more_rows_than_a_block_holds_are_dropped_like_live_synth(soundfont):
    from engine.audio._live_feed import MAX_ROWS

    many = [(i % 256, 0xB0, 7, 100) for i in range(MAX_ROWS + 300)]
    many.sort(key=lambda e: e[0])
    rows = np.array(many, np.int32)
    blocks = [(256, rows, True, False), (256, np.zeros((0, 4), np.int32), False, False)]
    ref_l, _, ref_drop = _render_live_synth(soundfont, blocks)
    got_l, _, drop = _render_feed(soundfont, blocks)
    assert drop == ref_drop == 300
    assert np.array_equal(got_l, ref_l)


def test_a_panic_lifts_the_pedal_so_held_notes_end(soundfont):
    """A sustained organ chord: note-offs and All Notes Off alone leave it sounding, the
    feed's panic (pedal up first) ends it."""
    from engine.audio._live_feed import LiveFeed, feed

    def run(panic):
        lf = LiveFeed(soundfont, SR, 4096)
        lf.prepare()
        k = feed.compiled
        out_l, out_r = np.zeros(SR * 3, np.float32), np.zeros(SR * 3, np.float32)
        start = np.array([[0, 0xC0, 19, 0], [10, 0xB0, 64, 127], [20, 0x90, 60, 100]], np.int32)
        offs = np.array([[0, 0x80, 60, 0], [0, 0xB0, 123, 0]], np.int32)
        none = np.zeros((1, 4), np.int32)
        pos = 0
        try:
            for b in range(SR * 3 // 256):
                ev, n_ev, p = none, 0, False
                if b == 0:
                    ev, n_ev = start, 3
                elif b == 100:  # 0.53 s: the player's note-off, then the panic's rows
                    ev, n_ev, p = offs, 2, panic
                seg = slice(pos, pos + 256)
                k(lf.state, lf.rows, ev, n_ev, 256, out_l[seg], out_r[seg], p, False)
                pos += 256
            return np.abs(out_l)
        finally:
            lf.close()

    held, lifted = run(False), run(True)
    late = slice(2 * SR, 3 * SR)
    assert held[late].max() > 0.02  # the pedal holds the organ past the note-off
    assert lifted[late].max() < 1e-3 * held[late].max()


def test_synth_block_reads_panics_and_stops_from_the_kernel_state(soundfont):
    """A moved panic count is a panic, the transport going 1 -> 0 (or quiet) a stop: the same
    samples as ``feed`` told so directly."""
    from engine.audio._live_feed import LiveFeed, synth_block
    from engine.host.live_layout import I_PANICS, I_PLAYING, I_QUIET

    stream = _stream(8, 256 * 200)
    blocks = _blocks(stream, [256] * 200, panic_at={50}, stop_at={120, 170})
    direct = _render_feed(soundfont, blocks)
    lf = LiveFeed(soundfont, SR, 4096)
    lf.prepare()
    k = synth_block.compiled
    istate = np.zeros(1024, np.int64)
    left, right = np.zeros(256 * 200, np.float32), np.zeros(256 * 200, np.float32)
    try:
        for b, (n, rows, panic, stop) in enumerate(blocks):
            istate[I_PLAYING] = 0 if 120 <= b < 150 else 1
            istate[I_QUIET] = 1 if b >= 170 else 0
            if panic or stop:
                istate[I_PANICS] += 1
            ev = np.zeros((max(len(rows), 1), 4), np.int32)
            ev[: len(rows)] = rows
            seg = slice(b * 256, (b + 1) * 256)
            k(lf.state, lf.rows, istate, ev, len(rows), n, left[seg], right[seg])
    finally:
        lf.close()
    # block 0 starts playing (no stop); block 150 resumes: neither is a stop
    assert np.abs(direct[0]).max() > 0.01
    assert np.array_equal(left, direct[0]) and np.array_equal(right, direct[1])


_KERNEL_FN = re.compile(r"^define [^@]*@(_ZN6engine5audio\w+)\(", re.M)
_ALLOC = ("NRT_MemInfo_alloc", "NRT_Allocate", "NRT_MemInfo_new", "NRT_MemInfo_varsize")
_RAISE = ("numba_do_raise", "build_excinfo", ".const.picklebuf", "numba_gil_ensure")


def _kernel_bodies(dispatcher, *args):
    """The LLVM IR of every engine.audio function linked into a fresh (uncached) compile."""
    dispatcher(*args)
    text = next(iter(dispatcher.inspect_llvm().values()))
    parts = re.split(r"\n(?=define )", text)
    return {m.group(1): p for p in parts if (m := _KERNEL_FN.match(p))}


def test_the_kernels_neither_allocate_nor_raise(soundfont):
    """The machine code of synth_block, feed and what they call (not numba's Python
    wrappers) has no allocation, no raise and no GIL; a function that raises is caught."""
    import numba

    from engine.audio import _live_feed as m
    from groove._numba import OPTIONS

    fresh = dict(OPTIONS, cache=False)
    buf = np.zeros(64, np.float32)
    args = (np.zeros(m.S_LEN, np.int64), np.zeros((8, 4), np.int64), np.zeros(64, np.int64),
            np.zeros((1, 4), np.int32), 0, 0, buf, buf)  # fmt: skip
    bodies = _kernel_bodies(numba.njit(**fresh)(m.synth_block.py_func), *args)
    names = " ".join(bodies)
    assert "synth_block" in names and "4feed" in names
    assert any("@fluid_synth_write_float" in body for body in bodies.values())
    for name, body in bodies.items():
        for word in _ALLOC + _RAISE:
            assert word not in body, (name, word)

    def raises(a):
        if a[0] > 1:
            raise ValueError("no")
        return a[0]

    probe = numba.njit(**fresh)(raises)
    probe(np.zeros(1))
    text = next(iter(probe.inspect_llvm().values()))
    assert any(w in text for w in _RAISE)  # the check would see a raise


def test_the_synth_starts_no_thread_of_its_own(soundfont):
    """Made on the main thread and rendered by the caller: FluidSynth runs no thread (no
    audio or MIDI driver, one core, libgomp held to one thread)."""
    import os

    from engine.audio._live_feed import LiveFeed, feed

    def threads():
        return len(os.listdir("/proc/self/task"))

    if not os.path.isdir("/proc/self/task"):
        pytest.skip("no /proc/self/task to count threads")
    # numba (LLVM) starts a thread of its own at its first compiled call: before counting
    buf = np.zeros(64, np.float32)
    feed.compiled(np.zeros(8, np.int64), np.zeros((1, 4), np.int64), np.zeros((1, 4), np.int32),
                  0, 0, buf, buf, False, False)  # fmt: skip
    before = threads()
    lf = LiveFeed(soundfont, SR, 4096)
    try:
        lf.prepare()
        ev = np.array([[0, 0x90, 60, 100]] * 1, np.int32)
        out_l, out_r = np.zeros(4096, np.float32), np.zeros(4096, np.float32)
        feed.compiled(lf.state, lf.rows, ev, 1, 4096, out_l, out_r, False, False)
        assert np.abs(out_l).max() > 0.001
        assert threads() == before
    finally:
        lf.close()
