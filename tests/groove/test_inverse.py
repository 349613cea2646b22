"""The inverse: round trips, left ends of flat stretches, evaluation counts.

Run on random curves and on adversarial ones: flat stretches (T' = 0 on a
whole segment), neighbouring knot targets 9.3e-10 beat apart, slope ratios
up to 1e9 between neighbouring steps, blends of flat stretches and timing
amounts right at the fold-back limit.
"""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import groove
from groove.kernels import MAX_EVALS
from tests.groove.reference import (
    DYADIC_GRIDS,
    DYADIC_WEIGHTS,
    GRID_STEP_BEAT,
    BlendSpec,
    RefScaled,
    TemplateSpec,
    adversarial_slopes,
    adversarial_specs,
    blend_specs,
    flat_runs,
    n_steps,
    offsets_from_slopes,
    ref_inverse,
    swing_specs,
    template_specs,
)

#: |forward(inverse(y)) - y| allowed, in beats.
ROUND_TRIP_Y_BEAT = 1e-12
#: |inverse(forward(x)) - x| allowed where T' >= WELL_CONDITIONED_SLOPE.
ROUND_TRIP_X_BEAT = 1e-9
WELL_CONDITIONED_SLOPE = 1e-3
SETTINGS = settings(max_examples=100, deadline=None)


def check_inverse(g, y):
    """Finite, at most MAX_EVALS evaluations, and forward(inverse(y)) == y."""
    x, evals = g.inverse_counted(y)
    assert np.isfinite(x).all()
    assert evals.max() <= MAX_EVALS
    err = np.abs(g.forward(x) - y)
    worst = int(np.argmax(err))
    assert err[worst] <= ROUND_TRIP_Y_BEAT, (
        f"forward(inverse({y[worst]!r})) off by {err[worst]:.3g} (x = {x[worst]!r})"
    )
    return x


def well_conditioned(g, x):
    """T' >= 1e-3 within 1e-9 beat of x on both sides.

    Rounding moves forward(x) by ~1e-14 beat, which an inverse may only undo
    to 1e-14 / T'; so x is recoverable to 1e-9 where T' is not tiny nearby,
    even at a knot next to a (nearly) flat segment.
    """
    slope = np.minimum(g.derivative(x - 1e-9), g.derivative(x))
    return np.minimum(slope, g.derivative(x + 1e-9)) >= WELL_CONDITIONED_SLOPE


def check_inverse_of_forward(g, x):
    """inverse(forward(x)) == x wherever T' >= 1e-3 around x."""
    back = g.inverse(g.forward(x))
    err = np.where(well_conditioned(g, x), np.abs(back - x), 0.0)
    worst = int(np.argmax(err))
    assert err[worst] <= ROUND_TRIP_X_BEAT, (
        f"inverse(forward({x[worst]!r})) = {back[worst]!r}, T' = {g.derivative(x[worst]):.3g}"
    )


def check_against_bisection(g, ref, y):
    """inverse agrees with bisection on the reference where that is well posed."""
    x = g.inverse(y)
    expected = ref_inverse(ref, y)
    err = np.where(well_conditioned(g, expected), np.abs(x - expected), 0.0)
    worst = int(np.argmax(err))
    assert err[worst] <= ROUND_TRIP_X_BEAT, (
        f"inverse({y[worst]!r}) = {x[worst]!r}, bisection gives {expected[worst]!r}"
    )


def sample_y(g, rng, count=3000):
    """Random grooved positions in [-50, 50], every knot's target and just past it."""
    targets = g.forward(np.arange(-48.0, 48.0, 1.0 / 24.0))
    return np.concatenate([rng.uniform(-50.0, 50.0, count), targets, targets + 1e-13])


def sample_x(rng, count=3000):
    """Random positions in [-50, 50], every knot and just past it."""
    knots = np.arange(-48.0, 48.0, 1.0 / 24.0)
    return np.concatenate([rng.uniform(-50.0, 50.0, count), knots, knots + 1e-7])


def check_all(g, ref, seed):
    rng = np.random.default_rng(seed)
    y = sample_y(g, rng)
    check_inverse(g, y)
    check_inverse_of_forward(g, sample_x(rng))
    check_against_bisection(g, ref, y[:500])


def at_fold_back(g, ref):
    """The groove and reference with timing just below the fold-back limit."""
    amount = g.max_timing * (1 - 1e-9)
    return g.scaled(amount), RefScaled(ref, amount)


# -- property tests -----------------------------------------------------


@SETTINGS
@given(
    st.one_of(template_specs(), swing_specs(), template_specs(spread=0.5)),
    st.integers(0, 2**32 - 1),
)
def test_inverse_random(spec, seed):
    check_all(*spec.build(), seed)


@SETTINGS
@given(adversarial_specs(), st.integers(0, 2**32 - 1))
def test_inverse_adversarial(spec, seed):
    g, ref = spec.build()
    check_all(g, ref, seed)
    if g.max_timing <= groove.MAX_TIMING:
        check_all(*at_fold_back(g, ref), seed)


@SETTINGS
@given(
    blend_specs(st.one_of(adversarial_specs(), template_specs(), swing_specs())),
    st.integers(0, 2**32 - 1),
)
def test_inverse_blend_of_adversarial(spec, seed):
    g, ref = spec.build()
    check_all(g, ref, seed)
    if g.max_timing <= groove.MAX_TIMING:
        check_all(*at_fold_back(g, ref), seed)


# -- flat stretches: the left end ---------------------------------------


def check_flat_left_ends(g, ref, runs_beat, shifts=range(-6, 7)):
    """inverse(level of each flat stretch) is its left end, in every period.

    ``runs_beat`` lists (left end, right end) of maximal flat stretches in
    [0, period).  Bisection on the reference agrees to 1e-9 wherever it can
    tell the curve 1e-9 before the left end from the level; it cannot after a
    rise of ~1e-9 or where a pchip meets the stretch tangentially (T' = 0 at
    the knot): there the last 1e-8 .. 1e-6 beat before the stretch round to
    the level too, and bisection stops that early.  The exact left end is
    known, so the groove is held to it in every case.
    """
    period = g.period_beat
    for left, right in runs_beat:
        y = np.array([ref.forward(np.float64(left)) + m * period for m in shifts])
        expected = np.array([left + m * period for m in shifts])
        # Flat: exactly on binary grids, to rounding on triplet grids.
        level_at_right = ref.forward(expected + (right - left))
        np.testing.assert_allclose(level_at_right, y, rtol=0, atol=1e-13)
        np.testing.assert_allclose(g.inverse(y), expected, rtol=0, atol=ROUND_TRIP_X_BEAT)
        if (level_at_right != y).any():
            continue  # the reference itself sees a rise there: bisection can't help
        x_ref = ref_inverse(ref, y)
        assert (x_ref <= expected + 1e-12).all()
        # Clearly below (not merely rounded below) the level 1e-9 beat earlier.
        resolved = ref.forward(expected - ROUND_TRIP_X_BEAT) < y - 2e-13
        np.testing.assert_allclose(
            x_ref[resolved], expected[resolved], rtol=0, atol=ROUND_TRIP_X_BEAT
        )


def template_flat_runs(spec):
    h = float(GRID_STEP_BEAT[spec.grid])
    return [(k * h, (k + length) * h) for k, length in flat_runs(np.array(spec.offsets))]


#: Flat on [0.5, 0.75), then a slow rise: the case of the regression test below.
FLAT_THEN_SLOW = TemplateSpec(
    (0.0, 0.992431640625, 1.992431640625, 0.992431640625), "1/16", 1, "linear"
)


@SETTINGS
@given(adversarial_specs(grids=DYADIC_GRIDS, kinds=("free", "flat", "flat", "tiny")))
@example(FLAT_THEN_SLOW)
def test_inverse_of_a_flat_level_is_its_left_end(spec):
    g, ref = spec.build()
    runs = template_flat_runs(spec)
    if runs:
        check_flat_left_ends(g, ref, runs)


@SETTINGS
@given(adversarial_specs(grids=("1/8t", "1/16t"), kinds=("free", "flat", "flat", "tiny")))
def test_inverse_never_lands_inside_a_triplet_flat_stretch(spec):
    # 1/3 and 1/6 are not binary fractions, so a flat level is only known to
    # rounding and "the level itself" may round to either end; 2e-13 beat
    # below it the answer is before the left end, 2e-13 above it past the
    # right end, never inside.
    g, ref = spec.build()
    period = g.period_beat
    for left, right in template_flat_runs(spec):
        lefts = left + period * np.arange(-3, 4)
        level = ref.forward(lefts)
        below, above = g.inverse(level - 2e-13), g.inverse(level + 2e-13)
        assert (below <= lefts + 1e-9).all(), (lefts, below)
        assert (above >= lefts + (right - left) - 1e-9).all(), (lefts, above)
        check_inverse(g, np.concatenate([level - 2e-13, level, level + 2e-13]))


@pytest.mark.parametrize("interp", ["linear", "pchip"])
@pytest.mark.parametrize("weights", DYADIC_WEIGHTS)
def test_blend_of_flat_stretches_inverts_to_the_left_end(weights, interp):
    # Both parts are flat on [0.25, 0.5) (mod 2); only the 1-beat part is also
    # flat on [1.25, 1.5), so the blend is flat on [0.25, 0.5) + 2m only.
    a = TemplateSpec((0.0, 0.5, -0.5, 0.0), "1/16", 1, interp)
    b = TemplateSpec((0.25, 0.625, -0.375, 0.0, 0.0, 0.0, 0.0, 0.0), "1/16", 2, interp)
    spec = BlendSpec(((a, weights[0]), (b, weights[1])))
    g, ref = spec.build()
    assert g.period_beat == 2.0
    check_flat_left_ends(g, ref, [(0.25, 0.5)])
    check_all(g, ref, seed=7)


def test_flat_stretch_across_the_period_boundary():
    # Segments 3 and 0 are flat: the level at beat 0 is reached at 0.75 - m.
    offs = (0.5, -0.5, 0.0, 1.5)
    g, ref = TemplateSpec(offs, "1/16", 1, "linear").build()
    assert template_flat_runs(TemplateSpec(offs, "1/16", 1, "linear")) == [(0.75, 1.25)]
    check_flat_left_ends(g, ref, [(0.75, 1.25)])


@pytest.mark.parametrize("interp", ["linear", "pchip"])
def test_flat_stretch_followed_by_a_slow_rise(interp):
    # T is flat on [0.5, 0.75), then rises with slope 1 - a (as low as 1/4096)
    # on [0.75, 1).  Every value here is a binary fraction, so forward(0.5)
    # and forward(0.75) are both exactly the level and the smallest x
    # reaching it is 0.5, in every period.
    shifts = np.arange(-2.0, 3.0)
    for a in np.arange(3840, 4096) / 4096:
        g, ref = TemplateSpec((0.0, a, a + 1.0, a), "1/16", 1, interp).build()
        level = g.forward(0.5)
        assert g.forward(0.75) == level == 0.5 + (a + 1.0) * 0.25
        got = g.inverse(level + shifts)
        assert np.abs(got - (0.5 + shifts)).max() <= ROUND_TRIP_X_BEAT, (
            f"a = {a!r}: inverse({level!r} + m) = {got - shifts!r} + m, expected 0.5 + m"
        )


def test_regression_flat_level_resolved_to_right_end():
    # Found by hypothesis: the guess table of the inverse put x0 in the slow
    # segment after the flat stretch and its Halley step accepted the root
    # at that segment's start, the flat stretch's right end.
    g, _ = FLAT_THEN_SLOW.build()
    assert g.forward(0.5) == g.forward(0.75) == 0.99810791015625
    assert g.inverse(0.99810791015625) == pytest.approx(0.5, abs=1e-9)


# -- deterministic adversarial cases -----------------------------------


def test_knot_targets_1e_9_apart_with_plain_float_offsets():
    # Rise -1 + 1e-9 in ordinary (not binary-fraction) floats.
    offs = [0.3, 0.3 - 1 + 1e-9, 0.2, 0.1 + 1e-9, 0.1 - 1 + 2e-9, 0.45]
    for interp in ("linear", "pchip"):
        g, ref = TemplateSpec(tuple(offs), "1/8t", 2, interp).build()
        check_all(g, ref, seed=11)
        check_all(*at_fold_back(g, ref), seed=12)


@pytest.mark.parametrize("log_ratio", [-5.0, 4.0, 9.0])
def test_extreme_slope_ratios(log_ratio):
    # Alternate slopes 1 and 10**log_ratio between neighbouring steps.
    n = 32
    logs = np.where(np.arange(n) % 2 == 0, 0.0, log_ratio)
    offs = offsets_from_slopes(adversarial_slopes(logs, ["free"] * n), 0.25)
    for interp in ("linear", "pchip"):
        g, ref = TemplateSpec(tuple(offs), "1/32", 4, interp).build()
        check_all(g, ref, seed=13)


# -- bulk checks (1e5 points) -------------------------------------------


def _bulk_grooves():
    rng = np.random.default_rng(2024)
    n = n_steps("1/32", 8)
    kinds = rng.choice(["free", "free", "flat", "tiny"], size=n)
    adversarial = offsets_from_slopes(adversarial_slopes(rng.uniform(-5, 4, n), kinds), 0.1)
    random16t = rng.uniform(-0.49, 0.49, n_steps("1/16t", 8))
    specs = {
        "random pchip 1/16t": TemplateSpec(tuple(random16t), "1/16t", 8, "pchip"),
        "adversarial linear": TemplateSpec(tuple(adversarial), "1/32", 8, "linear"),
        "adversarial pchip": TemplateSpec(tuple(adversarial), "1/32", 8, "pchip"),
        "blend": BlendSpec(
            (
                (TemplateSpec(tuple(adversarial), "1/32", 8, "pchip"), 1.0),
                (TemplateSpec(tuple(random16t), "1/16t", 8, "linear"), 2.0),
            )
        ),
    }
    return specs


BULK_CASES = [(name, False) for name in _bulk_grooves()] + [
    (name, True) for name in ("adversarial linear", "adversarial pchip", "blend")
]


@pytest.mark.parametrize("name, fold_back", BULK_CASES)
def test_inverse_bulk(name, fold_back):
    g, ref = _bulk_grooves()[name].build()
    if fold_back:
        assert g.max_timing <= groove.MAX_TIMING
        g, ref = at_fold_back(g, ref)
    rng = np.random.default_rng(99)
    y = rng.uniform(-50.0, 50.0, 100_000)
    check_inverse(g, y)
    check_inverse_of_forward(g, rng.uniform(-50.0, 50.0, 100_000))
    check_against_bisection(g, ref, y[:5000])


def test_max_evals_is_60():
    assert MAX_EVALS == 60


def test_scalar_inverse_counted():
    g = groove.swing(66)
    x, evals = g.inverse_counted(0.33)
    assert isinstance(x, float) and isinstance(evals, int)
    assert 1 <= evals <= MAX_EVALS
    assert abs(g.forward(x) - 0.33) <= ROUND_TRIP_Y_BEAT
