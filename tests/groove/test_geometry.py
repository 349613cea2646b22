"""groove.geometry against exact rational arithmetic (fractions.Fraction)."""

import math
import zlib
from fractions import Fraction

import numpy as np
import pytest

import groove
from groove import GrooveError
from groove.geometry import centroid, displacement_region, signed_area

EPS = 2.0**-52


# -- slow, obviously correct references -------------------------------------------
def exact_twice_area(x, y):
    n = len(x)
    return sum(
        Fraction(x[i]) * Fraction(y[(i + 1) % n]) - Fraction(x[(i + 1) % n]) * Fraction(y[i])
        for i in range(n)
    )


def exact_centroid(x, y):
    n = len(x)
    a2 = exact_twice_area(x, y)
    mx = my = Fraction(0)
    for i in range(n):
        j = (i + 1) % n
        cross = Fraction(x[i]) * Fraction(y[j]) - Fraction(x[j]) * Fraction(y[i])
        mx += (Fraction(x[i]) + Fraction(x[j])) * cross
        my += (Fraction(y[i]) + Fraction(y[j])) * cross
    return mx / (3 * a2), my / (3 * a2)


def naive_area(x, y):
    """The textbook shoelace formula in float64."""
    x, y = np.asarray(x), np.asarray(y)
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def assert_centroid_close(got, exact, x0):
    """Few ulps of the result plus few ulps of the offset from vertex 0."""
    for g, e, o in zip(got, exact, x0):
        bound = 2 * np.spacing(abs(float(e))) + 8 * EPS * abs(float(e - Fraction(o)))
        assert abs(Fraction(g) - e) <= Fraction(bound), (g, float(e))


# -- polygons -------------------------------------------------------------------
def convex_polygon(rng, n):
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    return np.cos(ang), np.sin(ang)


def star_polygon(rng, n):
    """Simple but (usually) not convex: random radii around sorted angles."""
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(0.2, 1.0, n)
    return r * np.cos(ang), r * np.sin(ang)


def scribble(rng, n):
    """Arbitrary vertices: self-intersecting; the signed sum of loops."""
    return rng.uniform(-1, 1, n), rng.uniform(-1, 1, n)


TINY_FAR = dict(scale=1e-9, at=(1e6, 1e6))


def test_tiny_polygon_far_from_origin_matches_fractions_where_shoelace_fails():
    rng = np.random.default_rng(7)
    u, v = star_polygon(rng, 9)
    x, y = TINY_FAR["at"][0] + TINY_FAR["scale"] * u, TINY_FAR["at"][1] + TINY_FAR["scale"] * v
    exact = exact_twice_area(x, y) / 2
    assert exact != 0
    naive_rel = abs(Fraction(naive_area(x, y)) - exact) / abs(exact)
    assert naive_rel >= 0.5  # the textbook formula keeps no digit at all
    got = signed_area(x, y)
    assert abs(Fraction(got) - exact) / abs(exact) <= Fraction(1, 10**9)
    assert got == float(exact)  # in fact correctly rounded
    assert_centroid_close(centroid(x, y), exact_centroid(x, y), (x[0], y[0]))


@pytest.mark.parametrize("make", [convex_polygon, star_polygon, scribble])
@pytest.mark.parametrize(
    "scale,at", [(1.0, (0.0, 0.0)), (1e-9, (1e6, -1e6)), (3e-5, (2.0, 2.0)), (1e4, (-7e3, 1e-3))]
)
def test_random_polygons_match_fractions(make, scale, at):
    rng = np.random.default_rng(zlib.crc32(f"{make.__name__} {scale}".encode()))
    for n in (3, 4, 7, 20):
        u, v = make(rng, n)
        x, y = at[0] + scale * u, at[1] + scale * v
        exact = exact_twice_area(x, y) / 2
        assert signed_area(x, y) == float(exact)
        if exact != 0:
            assert_centroid_close(centroid(x, y), exact_centroid(x, y), (x[0], y[0]))


def test_orientation_sign():
    x, y = [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 1.0, 1.0]
    assert signed_area(x, y) == 1.0
    assert signed_area(x[::-1], y[::-1]) == -1.0
    assert signed_area([0, 4, 0], [0, 0, 3]) == 6.0
    assert signed_area([0, 0, 4], [0, 3, 0]) == -6.0
    # the centroid does not depend on orientation
    assert centroid(x, y) == centroid(x[::-1], y[::-1]) == (0.5, 0.5)


def test_translation_invariance_is_exact_for_exact_translations():
    rng = np.random.default_rng(3)
    u, v = star_polygon(rng, 11)
    # dyadic coordinates and integer shifts: every translated coordinate is exact
    x, y = np.round(u * 2**20) / 2**20, np.round(v * 2**20) / 2**20
    a, c = signed_area(x, y), centroid(x, y)
    for tx, ty in [(1.0, -3.0), (2.0**20, 2.0**19 + 1), (-12345.0, 777.0)]:
        assert signed_area(x + tx, y + ty) == a
        cx, cy = centroid(x + tx, y + ty)
        assert abs(cx - (c[0] + tx)) <= 2 * np.spacing(abs(cx))
        assert abs(cy - (c[1] + ty)) <= 2 * np.spacing(abs(cy))


@pytest.mark.parametrize(
    "x,y",
    [
        ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0]),  # collinear
        ([1e6, 1e6 + 1e-9, 1e6 + 2e-9], [5.0, 5.0, 5.0]),  # collinear, far away
        ([0.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]),  # repeated vertices on a line
        (
            [0.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 0.0],  # figure eight: loops cancel
            [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0],
        ),
        ([0.0, 1.0], [0.0, 1.0]),  # too few vertices
    ],
)
def test_zero_area_centroid_raises(x, y):
    assert signed_area(x, y) == 0.0
    with pytest.raises(GrooveError, match="centroid is undefined"):
        centroid(x, y)


def test_bad_input_raises():
    with pytest.raises(GrooveError, match="equal length"):
        signed_area([0, 1, 2], [0, 1])
    with pytest.raises(GrooveError, match="vertex 1"):
        signed_area([0, math.nan, 2], [0, 1, 0])


# -- displacement region ------------------------------------------------------------
def dense_reference(g, n=400_000):
    """Midpoint-rule integrals of D, |D| and t|D|, D|D|/2 over one period."""
    p = g.period_beat
    t = (np.arange(n) + 0.5) * (p / n)
    d = g.deviation(t)
    w = p / n
    a = np.abs(d)
    return (
        np.sum(d) * w,
        np.sum(a) * w,
        np.sum(t * a) / np.sum(a),
        np.sum(0.5 * d * a) / np.sum(a),
    )


def test_swing_is_one_triangle():
    g = groove.swing(66.0)  # off-beat 16th 0.32 step late
    r = displacement_region(g)
    peak = (66.0 - 50.0) / 50.0 * 0.25
    assert len(r.lobes) == 1
    assert r.abs_area_beat2 == pytest.approx(0.5 * 0.5 * peak, rel=1e-14)
    assert r.signed_area_beat2 == pytest.approx(r.abs_area_beat2, rel=1e-14)
    assert r.centroid_beat[0] == pytest.approx(0.25, rel=1e-14)
    assert r.centroid_beat[1] == pytest.approx(0.25 + peak / 3, rel=1e-14)


def test_lobes_split_at_crossings_of_a_linear_template():
    g = groove.template([0.0, 0.2, -0.1, 0.1], period=1)
    r = displacement_region(g, n=8)
    # knots D = 0, .05, -.025, .025 (beats) at t = 0, .25, .5, .75: three triangles
    t1 = 0.25 + 0.25 * 0.05 / 0.075
    t2 = 0.5 + 0.25 * 0.025 / 0.05
    expected = [0.5 * t1 * 0.05, -0.5 * (t2 - t1) * 0.025, 0.5 * (1.0 - t2) * 0.025]
    np.testing.assert_allclose(r.lobe_area_beat2, expected, rtol=1e-13)
    assert r.signed_area_beat2 == pytest.approx(sum(expected), rel=1e-13)
    assert r.abs_area_beat2 == pytest.approx(sum(map(abs, expected)), rel=1e-13)
    for lobe in r.lobes:  # each closes on the straight line
        assert lobe[0, 0] == pytest.approx(lobe[0, 1], abs=1e-15)
        assert lobe[-1, 0] == pytest.approx(lobe[-1, 1], abs=1e-15)
    signed, total, ct, cd = dense_reference(g)
    assert r.centroid_beat[0] == pytest.approx(ct, abs=1e-8)
    assert r.centroid_beat[1] == pytest.approx(ct + cd, abs=1e-8)


def test_pchip_matches_dense_integration():
    g = groove.template(
        [0.0, 0.3, -0.2, 0.1, 0.0, -0.15, 0.25, 0.05], grid="1/8", period=4, interp="pchip"
    )
    r = displacement_region(g, n=4096)
    signed, total, ct, cd = dense_reference(g)
    assert r.signed_area_beat2 == pytest.approx(signed, rel=1e-6, abs=1e-10)
    # chords of the cubic: O((period / n)**2), measured 1.4e-6 relative
    assert r.abs_area_beat2 == pytest.approx(total, rel=5e-6)
    assert r.centroid_beat[0] == pytest.approx(ct, abs=1e-7)
    assert r.centroid_beat[1] == pytest.approx(ct + cd, abs=1e-7)


def test_lobe_cut_by_the_period_boundary_is_closed_vertically():
    g = groove.template([0.2, 0.0, 0.0, 0.0], period=1)  # late at beat 0
    r = displacement_region(g, n=8)
    assert len(r.lobes) == 2
    assert r.lobes[0][0].tolist() == [0.0, 0.0] and r.lobes[0][1, 0] == 0.0
    assert r.lobes[-1][-1].tolist() == [1.0, 1.0]
    assert r.abs_area_beat2 == pytest.approx(0.5 * 0.5 * 0.05, rel=1e-13)


def test_sliver_near_beat_two_keeps_its_digits():
    offsets = np.zeros(16)
    offsets[8] = 4e-12  # one 16th 1e-12 beat late at beat 2
    r = displacement_region(groove.template(offsets))
    assert r.abs_area_beat2 == pytest.approx(0.5 * 0.5 * 1e-12, rel=1e-12)
    assert r.centroid_beat[0] == pytest.approx(2.0, rel=1e-15)
    # T = t + D rounds D to ulps of 2: computed from T the area would be far off
    (lobe,) = r.lobes
    from_t = -signed_area(lobe[:, 0], lobe[:, 1] - lobe[:, 0])
    assert abs(from_t / r.abs_area_beat2 - 1) > 1e-6


def test_straight_groove_has_no_displacement():
    r = displacement_region(groove.straight())
    assert r.abs_area_beat2 == 0.0 and r.signed_area_beat2 == 0.0
    assert r.centroid_beat is None and r.lobes == ()


def test_bad_sample_count_raises():
    with pytest.raises(GrooveError, match="n: 1"):
        displacement_region(groove.swing(60), n=1)
