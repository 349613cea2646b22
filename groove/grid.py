"""Grid strings ("1/16", "1/8t", "1/4d") and exact rational beat arithmetic.

Beats are quarter notes.  Steps and periods are kept as ``Fraction`` while a
groove is built so that the least common multiple of periods and the common
step of a blend are exact; only the finished curve is in float64.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from .errors import GrooveError

_GRID_RE = re.compile(r"^1/(1|2|4|8|16|32|64)([td]?)$")

#: Grid strings accepted everywhere a grid is named.
GRIDS = tuple(f"1/{n}{suffix}" for n in (1, 2, 4, 8, 16, 32, 64) for suffix in ("", "t", "d"))

#: A blend's period (the LCM of its parts' periods) may not exceed this.
MAX_PERIOD_BEAT = 64


def grid_step_beat(grid: str) -> Fraction:
    """Length of one grid step in beats, exactly.

    Parameters
    ----------
    grid : str
        ``"1/N"`` with N in 1, 2, 4, ..., 64, optionally followed by ``t``
        (triplet, 2/3 as long) or ``d`` (dotted, 3/2 as long).

    Returns
    -------
    Fraction
        ``"1/16"`` -> 1/4, ``"1/8t"`` -> 1/3, ``"1/4"`` -> 1.
    """
    if not isinstance(grid, str):
        raise GrooveError(
            f"grid: expected a string such as '1/16', got {grid!r} ({type(grid).__name__})"
        )
    match = _GRID_RE.match(grid.strip())
    if match is None:
        raise GrooveError(
            f"grid: unknown grid {grid!r}; use 1/N with N in 1, 2, 4, 8, 16, 32, 64, "
            "optionally followed by t (triplet) or d (dotted), e.g. '1/16' or '1/8t'"
        )
    step = Fraction(4, int(match.group(1)))
    if match.group(2) == "t":
        step *= Fraction(2, 3)
    elif match.group(2) == "d":
        step *= Fraction(3, 2)
    return step


def as_fraction(value, name: str) -> Fraction:
    """A positive finite beat length as an exact Fraction (floats via limit_denominator)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise GrooveError(f"{name}: expected a number of beats, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise GrooveError(f"{name}: must be finite, got {value!r}")
    frac = Fraction(value).limit_denominator(1 << 20)
    if frac <= 0:
        raise GrooveError(f"{name}: must be > 0 beats, got {value!r}")
    return frac


def lcm_fraction(a: Fraction, b: Fraction) -> Fraction:
    """Least common multiple of two positive rationals."""
    return Fraction(math.lcm(a.numerator, b.numerator), math.gcd(a.denominator, b.denominator))


def gcd_fraction(a: Fraction, b: Fraction) -> Fraction:
    """Greatest common divisor of two positive rationals."""
    return Fraction(math.gcd(a.numerator, b.numerator), math.lcm(a.denominator, b.denominator))
