"""The forward map of every kind of groove against the slow references.

Also: swing's exact grid values, blends' periods and normalised weights,
timing amounts, monotonicity of every built groove, accents and the
deviation-range properties.
"""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import groove
from tests.groove.reference import (
    DYADIC_GRIDS,
    DYADIC_WEIGHTS,
    GRID_STEP_BEAT,
    GRIDS,
    INTERPS,
    PERIODS_BEAT,
    RefScaled,
    TemplateSpec,
    adversarial_specs,
    blend_specs,
    n_steps,
    ref_accent,
    swing_specs,
    template_specs,
)

FORWARD_TOL_BEAT = 1e-12
SETTINGS = settings(max_examples=100, deadline=None)
#: Blends also use periods 3 and 6 so their LCM differs from every part's.
BLEND_PERIODS_BEAT = (1, 2, 3, 4, 6, 8)


def positions(seed, count=2000, span_beat=50.0):
    """Random positions in [-span, span] plus every knot of the finest grid."""
    rng = np.random.default_rng(seed)
    knots = np.arange(-span_beat, span_beat, 1.0 / 24.0)
    return np.concatenate([rng.uniform(-span_beat, span_beat, count), knots])


def assert_forward_matches(g, ref, x):
    err = np.abs(g.forward(x) - ref.forward(x))
    worst = int(np.argmax(err))
    assert err[worst] <= FORWARD_TOL_BEAT, f"forward({x[worst]!r}) off by {err[worst]:.3g}"


def assert_monotone(g, period_beat, strict_tol_beat=0.0):
    """forward non-decreasing on a dense sorted grid; T' >= -1e-9 everywhere."""
    x = np.linspace(-2.0 * period_beat, 2.0 * period_beat, 40001)
    rng = np.random.default_rng(0)
    x = np.sort(np.concatenate([x, rng.uniform(-50.0, 50.0, 20000)]))
    drop = -np.diff(g.forward(x))
    worst = int(np.argmax(drop))
    assert drop[worst] <= strict_tol_beat, (
        f"forward decreases by {drop[worst]:.3g} between {x[worst]!r} and {x[worst + 1]!r}"
    )
    assert g.derivative(x).min() >= -1e-9


# -- forward against the references ------------------------------------


@SETTINGS
@given(template_specs(), st.integers(0, 2**32 - 1))
def test_template_forward_matches_reference(spec, seed):
    g, ref = spec.build()
    assert_forward_matches(g, ref, positions(seed))


@pytest.mark.parametrize("interp", INTERPS)
@pytest.mark.parametrize("grid", GRIDS)
def test_template_forward_bulk(grid, interp):
    rng = np.random.default_rng([GRIDS.index(grid), INTERPS.index(interp)])
    for period in PERIODS_BEAT:
        offsets = rng.uniform(-0.49, 0.49, n_steps(grid, period))
        g, ref = TemplateSpec(tuple(offsets), grid, period, interp).build()
        assert_forward_matches(g, ref, rng.uniform(-50.0, 50.0, 20000))


@SETTINGS
@given(adversarial_specs(), st.integers(0, 2**32 - 1))
def test_adversarial_template_forward_matches_reference(spec, seed):
    g, ref = spec.build()
    assert_forward_matches(g, ref, positions(seed))


@SETTINGS
@given(swing_specs(), st.integers(0, 2**32 - 1))
def test_swing_forward_matches_reference(spec, seed):
    g, ref = spec.build()
    assert_forward_matches(g, ref, positions(seed))


@SETTINGS
@given(
    blend_specs(st.one_of(template_specs(periods=BLEND_PERIODS_BEAT), swing_specs())),
    st.integers(0, 2**32 - 1),
)
def test_blend_forward_matches_reference(spec, seed):
    g, ref = spec.build()
    assert_forward_matches(g, ref, positions(seed))


@SETTINGS
@given(
    st.one_of(template_specs(), swing_specs(), adversarial_specs()),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_scaled_forward_matches_reference(spec, fraction, seed):
    g, ref = spec.build()
    amount = fraction * min(groove.MAX_TIMING, g.max_timing)
    assert_forward_matches(g.scaled(amount), RefScaled(ref, amount), positions(seed))


# -- swing ----------------------------------------------------------------


def test_swing_58_moves_the_16th_offbeat_to_0_29():
    assert abs(groove.swing(58).forward(0.25) - 0.29) <= 1e-12
    assert abs(groove.swing(58, "1/16").inverse(0.29) - 0.25) <= 1e-12


@pytest.mark.parametrize("grid", ["1/8", "1/16"])
@pytest.mark.parametrize("amount", [54, 58, 62, 66, 71, 75])
def test_swing_grid_points(amount, grid):
    step = float(GRID_STEP_BEAT[grid])
    k = np.arange(-64, 65)
    expected = k * step + np.where(k % 2 == 1, (amount - 50) / 50 * step, 0.0)
    got = groove.swing(amount, grid).forward(k * step)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("grid", ["1/8", "1/16"])
@pytest.mark.parametrize("amount", [54, 58, 62, 66, 71, 75])
def test_swing_moves_between_grid_lines_along_straight_lines(amount, grid):
    g = groove.swing(amount, grid)
    step = float(GRID_STEP_BEAT[grid])
    k = np.arange(-16, 16)[:, None]
    f = np.linspace(0.05, 0.95, 19)[None, :]
    start, end = g.forward(k * step), g.forward((k + 1) * step)
    got = g.forward((k + f) * step)
    np.testing.assert_allclose(got, start + f * (end - start), rtol=0, atol=1e-12)
    # Not snapped: every in-between position lands strictly between its knots.
    assert (got > start).all() and (got < end).all()


def test_swing_50_is_straight():
    x = positions(1)
    np.testing.assert_array_equal(groove.swing(50).forward(x), x)


# -- blends ---------------------------------------------------------------


def _period_lcm(periods):
    out = Fraction(periods[0])
    for p in periods[1:]:
        p = Fraction(p)
        out = Fraction(
            math.lcm(out.numerator, p.numerator), math.gcd(out.denominator, p.denominator)
        )
    return out


@SETTINGS
@given(blend_specs(st.one_of(template_specs(periods=BLEND_PERIODS_BEAT), swing_specs())))
def test_blend_period_is_the_lcm_of_its_parts(spec):
    g, _ = spec.build()
    periods = [
        Fraction(p.period_beat) if isinstance(p, TemplateSpec) else 2 * GRID_STEP_BEAT[p.grid]
        for p, _ in spec.parts
    ]
    assert g.period_beat == float(_period_lcm(periods))


def test_blend_weights_are_normalised():
    a = groove.template([0.0, 0.3, -0.2, 0.1], period=1)
    b = groove.swing(66, "1/8")
    x = positions(2)
    np.testing.assert_allclose(
        groove.blend([(a, 5.0)]).forward(x), a.forward(x), rtol=0, atol=1e-13
    )
    np.testing.assert_allclose(
        groove.blend([(a, 2.0), (b, 6.0)]).forward(x),
        groove.blend([(a, 0.25), (b, 0.75)]).forward(x),
        rtol=0,
        atol=1e-13,
    )
    np.testing.assert_allclose(
        groove.blend([(a, 1.0), (b, 0.0)]).forward(x), a.forward(x), rtol=0, atol=1e-13
    )


# -- timing amounts -----------------------------------------------------


@SETTINGS
@given(
    st.one_of(template_specs(), swing_specs(), adversarial_specs(), blend_specs(template_specs()))
)
def test_scaled_zero_is_exactly_the_identity(spec):
    g = spec.build()[0].scaled(0)
    assert g.is_identity
    rng = np.random.default_rng(3)
    x = np.concatenate(
        [
            rng.uniform(-50, 50, 5000),
            rng.uniform(-1e6, 1e6, 100),
            np.arange(-50, 50, 1 / 24),
            [0.0, 1e-300, -1e-300],
        ]
    )
    assert np.array_equal(g.forward(x), x)
    assert np.array_equal(g.inverse(x), x)
    assert np.array_equal(g.forward(x).view(np.int64)[x != 0], x.view(np.int64)[x != 0])
    assert np.array_equal(g.inverse(x).view(np.int64)[x != 0], x.view(np.int64)[x != 0])


@pytest.mark.parametrize("grid", GRIDS)
def test_straight_is_the_identity(grid):
    g = groove.straight(grid)
    x = positions(4)
    assert g.is_identity
    assert np.array_equal(g.forward(x), x)
    assert np.array_equal(g.inverse(x), x)
    assert np.array_equal(g.derivative(x), np.ones_like(x))
    assert np.array_equal(g.deviation(x), np.zeros_like(x))
    assert g.min_deviation_beat == 0.0 and g.max_deviation_beat == 0.0
    assert g.max_timing == math.inf


def test_max_timing_is_where_the_steepest_fall_flattens():
    # Step 1 -> 2 falls by 0.9 step: D' = -0.9, so T_a' = 1 - 0.9 a >= 0 up to 1/0.9.
    g = groove.template([0.0, 0.9, 0.0, 0.0], period=1)
    assert g.max_timing == pytest.approx(1 / 0.9, rel=1e-12)
    edge = g.scaled(g.max_timing)
    assert edge.derivative(0.3) == pytest.approx(0.0, abs=1e-12)
    assert groove.swing(75).max_timing == pytest.approx(2.0, rel=1e-12)


# -- monotonicity ---------------------------------------------------------


@SETTINGS
@given(
    st.one_of(
        template_specs(spread=0.499),
        swing_specs(),
        blend_specs(st.one_of(template_specs(periods=BLEND_PERIODS_BEAT), swing_specs())),
    )
)
def test_every_groove_is_monotone(spec):
    g, _ = spec.build()
    assert_monotone(g, g.period_beat)
    if g.max_timing <= groove.MAX_TIMING:
        assert_monotone(g.scaled(g.max_timing * (1 - 1e-9)), g.period_beat)


@SETTINGS
@given(
    st.one_of(
        adversarial_specs(grids=DYADIC_GRIDS),
        blend_specs(adversarial_specs(grids=DYADIC_GRIDS), weights=DYADIC_WEIGHTS),
    )
)
def test_adversarial_binary_grooves_are_exactly_monotone(spec):
    # Binary-fraction steps, offsets and weights make flat stretches exactly
    # flat in float64, so forward must never decrease, not even by one ulp.
    g, _ = spec.build()
    assert_monotone(g, g.period_beat)


@SETTINGS
@given(st.one_of(adversarial_specs(), blend_specs(adversarial_specs())))
def test_adversarial_grooves_are_monotone_to_rounding(spec):
    # A flat stretch on a triplet grid (step 1/3 or 1/6) or blended with
    # weights like 0.8/0.2 is flat only up to the rounding of its
    # coefficients, so forward may wobble by a few ulps there.
    g, _ = spec.build()
    assert_monotone(g, g.period_beat, strict_tol_beat=16 * np.spacing(60.0))


# -- accents --------------------------------------------------------------


def test_accent_is_the_nearest_grid_step_velocity():
    velocity = [1.0, 0.3, 0.7, 0.5, 0.9, 0.2]
    g = groove.template([0.0] * 6, grid="1/8t", period=2, velocity=velocity)
    x = positions(5, span_beat=20.0) + 1e-7  # keep off exact half-step ties
    np.testing.assert_array_equal(g.accent(x), ref_accent(velocity, "1/8t", x))


def test_blend_accent_is_the_weighted_sum():
    va = [1.0, 0.2, 0.6, 0.4]
    vb = [0.5, 1.0, 0.0]
    a = groove.template([0.0, 0.2, 0.0, 0.1], grid="1/16", period=1, velocity=va)
    b = groove.template([0.0, 0.1, 0.0], grid="1/8t", period=1, velocity=vb)
    x = positions(6, span_beat=20.0) + 1e-7
    expected = 0.25 * ref_accent(va, "1/16", x) + 0.75 * ref_accent(vb, "1/8t", x)
    np.testing.assert_allclose(
        groove.blend([(a, 1.0), (b, 3.0)]).accent(x), expected, rtol=0, atol=1e-15
    )


def test_accent_without_velocity_is_full():
    x = positions(7)
    for g in (groove.straight(), groove.swing(62), groove.template([0.1, 0.0], "1/8", 1)):
        np.testing.assert_array_equal(g.accent(x), np.ones_like(x))


# -- properties -------------------------------------------------------------


@pytest.mark.parametrize("grid", GRIDS)
def test_template_properties(grid):
    period = 2
    n = n_steps(grid, period)
    g = groove.template(np.linspace(-0.3, 0.3, n), grid=grid, period=period)
    assert g.period_beat == 2.0
    assert g.grid == grid
    assert g.grid_beat == float(GRID_STEP_BEAT[grid])
    assert g.kind == "template"
    s = groove.swing(60, grid)
    assert s.period_beat == float(2 * GRID_STEP_BEAT[grid]) and s.grid == grid


def test_blend_grid_is_that_of_the_heaviest_part():
    a = groove.template([0.0, 0.1], grid="1/8", period=1)
    b = groove.swing(60, "1/16t")
    assert groove.blend([(a, 1.0), (b, 2.0)]).grid == "1/16t"
    assert groove.blend([(a, 2.0), (b, 1.0)]).grid == "1/8"


@SETTINGS
@given(
    st.one_of(
        template_specs(),
        swing_specs(),
        adversarial_specs(),
        blend_specs(template_specs(periods=BLEND_PERIODS_BEAT)),
    )
)
def test_deviation_range_matches_dense_sampling(spec):
    g, ref = spec.build()
    # Dense samples plus every knot (all steps here are multiples of 1/24 beat).
    x = np.concatenate(
        [np.linspace(0.0, g.period_beat, 200001), np.arange(0.0, g.period_beat, 1.0 / 24.0)]
    )
    dense = ref.forward(x) - x
    assert dense.min() >= g.min_deviation_beat - 1e-12
    assert dense.max() <= g.max_deviation_beat + 1e-12
    # Sampling every ~1e-5 beat of a curve with |D'| <= 64 gets within 1e-3.
    assert dense.min() - g.min_deviation_beat <= 1e-3
    assert g.max_deviation_beat - dense.max() <= 1e-3
