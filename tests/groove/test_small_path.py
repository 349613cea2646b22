"""The small path: kernels run as plain Python give exactly what compiled kernels give.

``groove._numba.kernel`` keeps one implementation of every kernel and runs
it either way (see its module docstring).  These tests run the same work
with ``set_mode("never")`` (plain Python only) and ``set_mode("always")``
(numba only) and compare bytes: whole renders of real MIDI files (the test
fixtures, the edge corpus and a sample of GMD when ../shared has them), the
groove maps, and the kernels with the integer types and overflows they meet.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

import groove
from engine.midi.render import render_file
from groove import _numba
from groove import transform as tf

REPO = Path(__file__).resolve().parents[2]
FIXTURES = sorted((REPO / "tests" / "data" / "midi").glob("*.mid"))
SHARED = REPO.parent / "shared" / "data"
EDGE = SHARED / "midi-edge"
GMD = SHARED / "gmd"
#: Larger files take seconds in plain Python; the point is the rules, not the size.
MAX_BYTES = 60_000

RENDERS = [
    ("swing16-58", {}),
    ("funk-16", {"random_ms": 7.0, "random_velocity": 9.0, "seed": 3, "quantize": 0.5}),
    ("halfway", {"velocity": 0.7, "ends": "keep", "resolution": 960}),
    ("swing8-66", {"inverse": True, "timing": 1.2}),
]


@contextmanager
def mode(name):
    old = _numba.set_mode(name)
    try:
        yield
    finally:
        _numba.set_mode(old)


def _render_bytes(src, dst, preset, options):
    try:
        render_file(src, dst, preset, **options)
    except Exception as exc:  # both paths must fail alike
        return f"{type(exc).__name__}: {exc}"
    return Path(dst).read_bytes()


def _both_ways(src, tmp_path, renders=RENDERS) -> int:
    """Renders that wrote a file (the others failed with the same error both ways)."""
    written = 0
    for preset, options in renders:
        with mode("never"):
            plain = _render_bytes(src, tmp_path / "plain.mid", preset, options)
        with mode("always"):
            compiled = _render_bytes(src, tmp_path / "compiled.mid", preset, options)
        assert plain == compiled, f"{src} with {preset} {options}: the two paths differ"
        written += isinstance(plain, bytes)
    return written


def _corpus(root: Path, limit=None):
    if not root.is_dir():
        pytest.skip(f"{root} is not there (../shared data sets are optional)")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi"))
    files = [p for p in files if p.stat().st_size <= MAX_BYTES]
    if limit is not None and len(files) > limit:
        files = [files[i] for i in np.linspace(0, len(files) - 1, limit).astype(int)]
    return files


@pytest.mark.parametrize("src", FIXTURES + [REPO / "examples" / "drum-loop.mid"], ids=str)
def test_fixtures_render_the_same_both_ways(src, tmp_path):
    assert _both_ways(src, tmp_path) > 0


@pytest.mark.slow
def test_edge_corpus_renders_the_same_both_ways(tmp_path):
    files = _corpus(EDGE)
    written = sum(_both_ways(src, tmp_path, RENDERS[:2]) for src in files)
    assert written > len(files)  # most of the corpus renders (some files are meant to fail)


@pytest.mark.slow
def test_gmd_sample_renders_the_same_both_ways(tmp_path):
    files = _corpus(GMD, limit=60)
    written = sum(_both_ways(src, tmp_path) for src in files)
    assert written == len(files) * len(RENDERS)


def _bits(a):
    return np.asarray(a, dtype=np.float64).view(np.int64)


@pytest.mark.parametrize(
    "make",
    [
        lambda: groove.swing(62),
        lambda: groove.template([0, 0.3, -0.2, 0.1], interp="pchip", period=1),
        lambda: groove.blend(
            [(groove.swing(66, "1/8"), 1.0), (groove.template([0, 0.2, 0, -0.1], period=1), 2)]
        ),
        lambda: groove.template([0, 0.99, 0.99, 0], period=1),  # flat stretches
    ],
)
def test_groove_maps_are_bitwise_equal(make):
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-20, 200, 3000), np.arange(0, 8, 1 / 48), [0.0, 1e9]])
    out = {}
    for name in ("never", "always"):
        with mode(name):
            g = make()  # builds the guess table (kernels) under this mode
            fwd = g.forward(x)
            inv, evals = g.inverse_counted(x)
            out[name] = (
                _bits(fwd),
                _bits(inv),
                evals,
                _bits(g.derivative(x)),
                _bits(g.tables().guess),
            )
    for a, b in zip(out["never"], out["always"]):
        assert np.array_equal(a, b)


def test_noise_wraps_uint64_the_same():
    track = np.array([0, 1, 2**40, 7, 2**62], np.int64)
    index = np.array([0, 5, 3, 2**50, 1], np.int64)
    for seed in (0, 1, 2**63 + 12345, 2**64 - 1):
        with mode("never"):
            plain = tf.note_noise(seed, tf.STREAM_VELOCITY, track, index)
        with mode("always"):
            compiled = tf.note_noise(seed, tf.STREAM_VELOCITY, track, index)
        assert np.array_equal(_bits(plain), _bits(compiled))


def test_render_kernels_with_their_integer_types():
    from engine.midi import _render_kernels as rk

    rng = np.random.default_rng(1)
    n = 400
    kind = rng.integers(0, 3, n).astype(np.int8)
    status = (0x90 | rng.integers(0, 16, n)).astype(np.int16)
    data1 = rng.integers(0, 128, n).astype(np.int16)
    track = np.sort(rng.integers(0, 3, n)).astype(np.int64)
    tick = np.cumsum(rng.integers(0, 2**27, n)).astype(np.int64)  # long varlens
    data2 = np.where(rng.random(n) < 0.2, -1, rng.integers(0, 128, n)).astype(np.int16)
    blob = rng.integers(0, 256, 64).astype(np.uint8)
    blob_start = np.zeros(n, np.int64)
    blob_len = np.where(rng.random(n) < 0.1, 5, 0).astype(np.int64)
    bounds = np.array([0, 150, 150, n], np.int64)
    results = {}
    for name in ("never", "always"):
        with mode(name):
            pair = rk.pair_notes(track, kind, status, data1)
            out = np.zeros(n * 12 + 64, np.uint8)
            used = rk.encode_tracks(
                bounds, tick, status, data1, data2, blob_start, blob_len, blob, out
            )
            results[name] = [*pair, out[:used]]
    for a, b in zip(results["never"], results["always"]):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_kernels_call_kernels_from_njit_and_cfunc():
    import numba

    from groove._kernels import forward_one

    @numba.njit
    def twice(x, coef):
        return forward_one(x, 1.0, 0.5, coef) + forward_one(x + 1.0, 1.0, 0.5, coef)

    coef = np.zeros((2, 4))
    coef[1, 0] = 0.125
    plain = forward_one.py_func(0.6, 1.0, 0.5, coef) + forward_one.py_func(1.6, 1.0, 0.5, coef)
    assert twice(0.6, coef) == plain == 2.45
    sig = numba.types.float64(numba.types.float64)
    c = numba.cfunc(sig)(lambda x: forward_one(x, 1.0, 0.5, np.zeros((2, 4))))
    assert c.ctypes(0.3) == 0.3
    assert forward_one.compiled is forward_one.compile()
    assert forward_one.compiled.signatures  # the dispatcher's own API


def _child(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_small_calls_never_import_numba_and_large_ones_compile():
    out = _child(
        "import sys, numpy as np, groove\n"
        "g = groove.swing(60)\n"
        "g.inverse(np.linspace(0, 8, 1000)); g.forward(np.linspace(0, 8, 1000))\n"
        "print('numba' in sys.modules)\n"
        "from groove import _kernels, _numba\n"
        "g.forward(np.linspace(0, 8, _numba.SMALL_WORK + 1))\n"
        "print('numba' in sys.modules, _kernels.forward_many._dispatcher is not None,"
        " _kernels.inverse_many._dispatcher is None)\n"
        "g.inverse(np.zeros(3))  # numba is paid for: small calls now compile too\n"
        "print(_kernels.inverse_many._dispatcher is not None)\n"
    )
    assert out.splitlines() == ["False", "True True True", "True"]


def test_warmup_compiles_every_kernel():
    out = _child(
        "import groove, engine.host._kernels\n"
        "from groove import _numba\n"
        "groove.warmup()\n"
        "print(all(k._dispatcher is not None for k in _numba._registry), len(_numba._registry))\n"
    )
    ok, count = out.split()
    assert ok == "True" and int(count) >= 15


def test_mode_rejects_unknown_names():
    with pytest.raises(ValueError, match="'sometimes' is not known; use one of auto, always"):
        _numba.set_mode("sometimes")
