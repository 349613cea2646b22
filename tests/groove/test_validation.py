"""Every constructor and evaluator rejects bad input with a GrooveError.

A GrooveError is a ValueError whose one-line message names the parameter and
the bad value; these tests check both, not the exact wording.
"""

import math
import re

import numpy as np
import pytest

import groove
from groove import GrooveError


def check_message(excinfo, *needles):
    message = str(excinfo.value)
    assert "\n" not in message
    for needle in needles:
        assert needle in message, f"{needle!r} missing from {message!r}"


def test_groove_error_is_a_value_error():
    assert issubclass(GrooveError, ValueError)
    with pytest.raises(ValueError):
        groove.swing(0)


# -- template -------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_offsets(bad):
    with pytest.raises(GrooveError) as excinfo:
        groove.template([0.0, bad, 0.0, 0.0], period=1)
    check_message(excinfo, "offsets", "step 1", repr(bad))


def test_offsets_that_run_backwards_name_both_steps():
    with pytest.raises(GrooveError) as excinfo:
        groove.template([0.0, 0.5, -0.6, 0.0], period=1)
    check_message(excinfo, "offsets", "step 1", "step 2", "0.5", "-0.6")


def test_offsets_that_run_backwards_across_the_period_end():
    # The last knot's target must not pass the next period's first knot's.
    with pytest.raises(GrooveError) as excinfo:
        groove.template([-0.6, 0.0, 0.0, 0.5], period=1)
    check_message(excinfo, "offsets", "step 3", "step 0")


def test_a_rise_of_exactly_minus_one_is_allowed():
    g = groove.template([0.0, 0.5, -0.5, 0.0], period=1)
    assert g.derivative(0.3) == 0.0


@pytest.mark.parametrize("count", [3, 5, 16])
def test_wrong_number_of_offsets(count):
    with pytest.raises(GrooveError) as excinfo:
        groove.template([0.0] * count, grid="1/16", period=1)
    check_message(excinfo, "offsets", "4", str(count))


@pytest.mark.parametrize("grid", ["1/12", "sixteenth", 16, "1/16 t", ""])
def test_unknown_grid(grid):
    with pytest.raises(GrooveError) as excinfo:
        groove.template([0.0] * 4, grid=grid, period=1)
    check_message(excinfo, "grid", repr(grid))
    with pytest.raises(GrooveError) as excinfo:
        groove.swing(60, grid)
    check_message(excinfo, "grid", repr(grid))


@pytest.mark.parametrize(
    "grid, period", [("1/16", 0.3), ("1/8t", 1.5), ("1/8", 0.75), ("1/16t", 0.25)]
)
def test_period_not_a_whole_number_of_steps(grid, period):
    with pytest.raises(GrooveError) as excinfo:
        groove.template([0.0] * 4, grid=grid, period=period)
    check_message(excinfo, "period", repr(period), grid)


@pytest.mark.parametrize("period", [0, -1, math.nan, math.inf, "4"])
def test_bad_period(period):
    with pytest.raises(GrooveError) as excinfo:
        groove.template([0.0] * 4, period=period)
    check_message(excinfo, "period", repr(period))


def test_unknown_interp():
    with pytest.raises(GrooveError) as excinfo:
        groove.template([0.0] * 4, period=1, interp="cubic")
    check_message(excinfo, "interp", "'cubic'")


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
def test_velocity_outside_0_1(bad):
    with pytest.raises(GrooveError) as excinfo:
        groove.template([0.0] * 4, period=1, velocity=[1.0, bad, 1.0, 1.0])
    check_message(excinfo, "velocity", "step 1", repr(bad))


# -- swing ------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 100, -5, math.nan, 150.0])
def test_swing_amount_outside_0_100(amount):
    with pytest.raises(GrooveError) as excinfo:
        groove.swing(amount)
    check_message(excinfo, "amount", repr(float(amount)))


@pytest.mark.parametrize("amount", ["58", None, True])
def test_swing_amount_not_a_number(amount):
    with pytest.raises(GrooveError) as excinfo:
        groove.swing(amount)
    check_message(excinfo, "amount", repr(amount))


# -- blend ------------------------------------------------------------------


def test_blend_weights_all_zero():
    a, b = groove.swing(60), groove.swing(70)
    with pytest.raises(GrooveError) as excinfo:
        groove.blend([(a, 0.0), (b, 0)])
    check_message(excinfo, "weight", "0")


def test_blend_negative_weight():
    a, b = groove.swing(60), groove.swing(70)
    with pytest.raises(GrooveError) as excinfo:
        groove.blend([(a, 1.0), (b, -0.5)])
    check_message(excinfo, "parts[1]", "weight", "-0.5")


@pytest.mark.parametrize("weight", [math.nan, math.inf])
def test_blend_non_finite_weight(weight):
    with pytest.raises(GrooveError) as excinfo:
        groove.blend([(groove.swing(60), weight)])
    check_message(excinfo, "parts[0]", "weight", repr(weight))


def test_blend_period_over_64_beats():
    five = groove.template([0.0, 0.1, 0.0, -0.1, 0.0], grid="1/4", period=5)
    thirteen = groove.template([0.0, 0.1] + [0.0] * 11, grid="1/4", period=13)
    with pytest.raises(GrooveError) as excinfo:
        groove.blend([(five, 1.0), (thirteen, 1.0)])
    check_message(excinfo, "parts", "65", "64")
    # 5 and 10 share a multiple of 10: fine.
    ten = groove.template([0.0] * 10, grid="1/4", period=10)
    assert groove.blend([(five, 1.0), (ten, 1.0)]).period_beat == 10.0


@pytest.mark.parametrize("parts", [[], [(groove.swing(60),)], [("swing", 1.0)], [groove.swing(60)]])
def test_blend_malformed_parts(parts):
    with pytest.raises(GrooveError) as excinfo:
        groove.blend(parts)
    check_message(excinfo, "parts")


# -- timing -----------------------------------------------------------------


@pytest.mark.parametrize("amount", [-0.1, 1.31, 2.0, math.nan, math.inf])
def test_timing_outside_0_1_3(amount):
    with pytest.raises(GrooveError) as excinfo:
        groove.swing(60).scaled(amount)
    check_message(excinfo, "timing", repr(float(amount)))


def test_timing_past_the_fold_back_limit():
    # Step 1 -> 2 falls by 0.9 step: T_a' = 1 - 0.9 a < 0 beyond a = 1/0.9,
    # first at beat 0.25 (the fall is linear, so its whole segment folds).
    g = groove.template([0.0, 0.9, 0.0, 0.0], period=1)
    assert g.max_timing == pytest.approx(1 / 0.9, rel=1e-12)
    with pytest.raises(GrooveError) as excinfo:
        g.scaled(1.2)
    check_message(excinfo, "timing", "1.2")
    message = str(excinfo.value)
    numbers = [float(s) for s in re.findall(r"\d+\.\d+", message)]
    # The message gives the largest monotone timing, rounded down (safe to use).
    limit = [v for v in numbers if abs(v - g.max_timing) <= 1e-6]
    assert limit, f"no value within 1e-6 of {g.max_timing} in {message!r}"
    assert max(limit) <= g.max_timing
    g.scaled(max(limit))  # the value offered is accepted
    # ... and where the slope goes negative: a beat where T_1.2' < 0.
    beats = [float(s) for s in re.findall(r"beat (-?[\d.]+)", message)]
    assert beats and 1 + 1.2 * (g.derivative(beats[0]) - 1) < 0


def test_the_fold_back_limit_itself_is_allowed():
    g = groove.template([0.0, 0.9, 0.0, 0.0], period=1)
    assert g.scaled(g.max_timing).derivative(0.3) == pytest.approx(0.0, abs=1e-12)


# -- evaluation ---------------------------------------------------------------


@pytest.mark.parametrize(
    "method", ["forward", "inverse", "derivative", "deviation", "accent", "inverse_counted"]
)
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_positions(method, bad):
    g = groove.swing(62)
    with pytest.raises(GrooveError) as excinfo:
        getattr(g, method)(np.array([0.0, 1.0, bad, 2.0]))
    check_message(excinfo, "position 2", repr(float(bad)))
    with pytest.raises(GrooveError):
        getattr(g, method)(bad)


def test_empty_and_shaped_positions():
    g = groove.swing(62)
    assert g.forward(np.array([])).shape == (0,)
    x = np.linspace(0, 4, 12).reshape(3, 4)
    assert g.forward(x).shape == (3, 4)
    assert g.inverse(x).shape == (3, 4)
    assert isinstance(g.forward(0.5), float)
