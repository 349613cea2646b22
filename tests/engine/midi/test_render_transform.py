"""groove.transform: the per-note maths of rendering, against plain-Python references."""

from __future__ import annotations

import math

import numpy as np
import pytest

import groove
from groove import GrooveError
from groove import transform as tf

_M64 = (1 << 64) - 1


def _mix_ref(x):
    z = (x + 0x9E3779B97F4A7C15) & _M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def noise_ref(seed, stream, track, index):
    """splitmix64 + Box-Muller with Python's unbounded integers."""
    key = _mix_ref(_mix_ref(_mix_ref(_mix_ref(seed) ^ stream) ^ track) ^ index)
    u1 = ((_mix_ref(key ^ 1) >> 11) + 1) * 2.0**-53
    u2 = (_mix_ref(key ^ 2) >> 11) * 2.0**-53
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
    return min(max(z, -2.5), 2.5)


def test_noise_matches_big_integer_reference():
    keys = [(0, 0), (1, 7), (3, 2**40), (65535, 12345), (2, 0)]
    for seed in (0, 1, 2**63 + 5, 2**64 - 1):
        for stream in (tf.STREAM_TIMING, tf.STREAM_VELOCITY):
            got = tf.note_noise(seed, stream, [k[0] for k in keys], [k[1] for k in keys])
            want = [noise_ref(seed, stream, *k) for k in keys]
            np.testing.assert_array_equal(got, want)


def test_noise_is_per_key_and_roughly_normal():
    idx = np.arange(100_000)
    z = tf.note_noise(9, 0, 0, idx)
    assert np.array_equal(tf.note_noise(9, 0, 0, idx[::-1])[::-1], z)  # order-free
    assert np.array_equal(tf.note_noise(9, 0, 0, idx[500:600]), z[500:600])
    assert abs(z.mean()) < 0.02 and 0.97 < z.std() < 1.0  # clipped at 2.5 sigma
    assert np.abs(z).max() == 2.5
    assert not np.array_equal(tf.note_noise(9, 1, 0, idx[:100]), z[:100])


def test_noise_rejects_bad_seeds():
    for seed in (-1, 2**64, 1.5, True):
        with pytest.raises(GrooveError):
            tf.note_noise(seed, 0, 0, [0])


def test_quantize_nearest_grid_line_ties_up():
    start = np.array([0.0, 0.1, 0.125, 0.2, 0.375, -0.125, 1.37])
    np.testing.assert_array_equal(
        tf.quantize_beat(start, 0.25, 1.0), [0.0, 0.0, 0.25, 0.25, 0.5, 0.0, 1.25]
    )
    np.testing.assert_allclose(
        tf.quantize_beat(start, 0.25, 0.5), (start + [0.0, 0.0, 0.25, 0.25, 0.5, 0.0, 1.25]) / 2
    )
    assert tf.quantize_beat(start, 0.25, 0.0) is not start
    np.testing.assert_array_equal(tf.quantize_beat(start, 0.25, 0.0), start)
    with pytest.raises(GrooveError):
        tf.quantize_beat(start, 0.25, 1.5)


SWING_60 = groove.swing(60)


def _apply(start, end, vel, grooves=(SWING_60,), lane=None, **kw):
    lane = np.zeros(len(start), np.int64) if lane is None else lane
    return tf.apply_notes(
        list(grooves), lane, np.array(start, float), np.array(end, float), np.array(vel), **kw
    )


def test_zero_amounts_are_exact_identity():
    rng = np.random.default_rng(1)
    start = rng.uniform(0, 50, 500)
    end = start + rng.uniform(0, 1, 500)
    vel = rng.integers(1, 128, 500)
    s, e, v = _apply(start, end, vel, timing=0.0)
    assert np.array_equal(s, start) and np.array_equal(e, end) and np.array_equal(v, vel)


def test_groove_ends_and_keep_ends():
    g = groove.swing(60)
    start, end = [0.25, 1.0, 2.3], [0.5, 1.1, 2.8]
    s, e, _ = _apply(start, end, [90] * 3, timing=0.8)
    np.testing.assert_allclose(s, g.scaled(0.8).forward(start))
    np.testing.assert_allclose(e, g.scaled(0.8).forward(end))
    s2, e2, _ = _apply(start, end, [90] * 3, timing=0.8, ends="keep")
    np.testing.assert_allclose(e2 - s2, np.subtract(end, start))
    with pytest.raises(GrooveError):
        _apply(start, end, [90] * 3, ends="stretch")


def test_quantize_then_random_then_groove():
    g = groove.swing(66)
    start, end = np.array([0.3, 1.1]), np.array([0.4, 1.5])
    rnd = np.array([0.01, -0.02])
    s, e, _ = _apply(start, end, [80, 80], grooves=[g], quantize=0.5, random_offset_beat=rnd)
    q = tf.quantize_beat(start, g.grid_beat, 0.5)
    np.testing.assert_allclose(s, g.forward(q + rnd))
    np.testing.assert_allclose(e, g.forward(end + (q - start) + rnd))


def test_velocity_formula_and_clamp():
    tpl = groove.template([0, 0, 0, 0], period=1, velocity=[1.0, 0.5, 0.0, 0.9])
    start = np.array([0.0, 0.26, 0.5, 0.74, 0.12])  # last one quantizes to step 0
    vel = np.array([100, 100, 100, 127, 1])
    _, _, v = _apply(start, start + 0.1, vel, grooves=[tpl], velocity_amount=1.0, quantize=1.0)
    np.testing.assert_array_equal(v, [100, 50, 1, 114, 1])  # 0 clamps to 1; rint(114.3)
    _, _, v = _apply(
        start,
        start + 0.1,
        vel,
        grooves=[tpl],
        velocity_amount=0.5,
        velocity_offset=np.array([0.5, 0.5, 0, 100, -3]),
    )
    # 100.5 rounds half to even (100); 127 + 100 clamps to 127; 1 - 3 clamps to 1
    np.testing.assert_array_equal(v, [100, 76, 50, 127, 1])


def test_lanes_pick_their_groove():
    a, b = groove.swing(60), groove.swing(70, grid="1/8")
    start = np.array([0.25, 0.5, 0.25, 0.5])
    s, _, _ = _apply(start, start + 0.1, [90] * 4, grooves=[a, b], lane=np.array([0, 0, 1, 1]))
    np.testing.assert_allclose(
        s, [a.forward(0.25), a.forward(0.5), b.forward(0.25), b.forward(0.5)]
    )
    with pytest.raises(GrooveError):
        _apply(start, start, [90] * 4, grooves=[a], lane=np.array([0, 1, 0, 0]))


def test_elementwise_one_note_at_a_time_equals_all_at_once():
    rng = np.random.default_rng(5)
    n = 64
    start = rng.uniform(0, 16, n)
    end = start + rng.uniform(0.01, 1, n)
    vel = rng.integers(1, 128, n)
    lane = rng.integers(0, 2, n)
    rnd = 0.01 * tf.note_noise(3, 0, 0, np.arange(n))
    grooves = [groove.swing(58), groove.template(np.linspace(0, 0.3, 16), interp="pchip")]
    kw = dict(timing=0.9, quantize=0.3, velocity_amount=0.4)
    whole = tf.apply_notes(grooves, lane, start, end, vel, random_offset_beat=rnd, **kw)
    for i in range(n):
        one = tf.apply_notes(
            grooves,
            lane[i : i + 1],
            start[i : i + 1],
            end[i : i + 1],
            vel[i : i + 1],
            random_offset_beat=rnd[i : i + 1],
            **kw,
        )
        for w, o in zip(whole, one):
            assert w[i] == o[0]


def test_inverse_undoes_forward():
    g = groove.swing(62)
    start = np.linspace(0, 8, 97)
    s, e, _ = _apply(start, start + 0.2, [90] * 97, grooves=[g])
    back, back_end, _ = _apply(s, e, [90] * 97, grooves=[g], inverse=True)
    np.testing.assert_allclose(back, start, atol=1e-12)
    np.testing.assert_allclose(back_end, start + 0.2, atol=1e-12)


def test_ms_to_beat():
    np.testing.assert_allclose(tf.ms_to_beat(250.0, 500_000), 0.5)
    np.testing.assert_allclose(tf.ms_to_beat([10.0, 10.0], [1_000_000, 250_000]), [0.01, 0.04])
