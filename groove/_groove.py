"""The Groove value type (private; ``groove.curve`` and ``groove`` re-export it).

A compiled curve, its evaluation (``forward``, ``inverse``, ...) and
``scaled``; ``groove.curve`` holds the constructors that build one.  The
inverse's guess table is built on first need (``inverse``, ``tables``):
building and forward-mapping a groove then runs no kernel over thousands of
cells, which is most of what ``groove presets show`` or a forward render of
a small file costs.  Runs on the caller's thread: grooves are built on the
main thread; evaluation may run on any thread (it only reads the immutable
tables; two threads racing to build the guess table build the same one).
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from . import _build
from .errors import GrooveError
from .grid import grid_step_beat

#: Largest timing amount (Ableton allows 130%).
MAX_TIMING = 1.3
#: Slack on T' >= 0 for rounding in blends of flat stretches.
_SLOPE_TOL = 1e-9


class CurveTables(NamedTuple):
    """Plain arrays of a compiled groove, for kernels of other packages.

    Read-only; see ``groove._kernels`` for their meaning.  Pass them to
    ``groove.kernels`` functions from inside your own ``@njit`` code.
    """

    period_beat: float
    step_beat: float
    coef: np.ndarray
    ytab: np.ndarray
    bucket: np.ndarray
    guess: np.ndarray


class _Accent(NamedTuple):
    weight: float
    step_beat: float
    values: np.ndarray


def _kernels():
    # numba is imported on first use, not with the package: importing it costs
    # more than the whole rest of `import groove`.
    from . import _kernels as k

    return k


def _as_positions(beats, name: str):
    arr = np.asarray(beats, dtype=np.float64)
    scalar = arr.ndim == 0
    flat = np.ascontiguousarray(arr.reshape(-1))
    if flat.size and not np.isfinite(flat).all():
        bad = int(np.flatnonzero(~np.isfinite(flat))[0])
        raise GrooveError(f"{name}: position {bad} is {flat[bad]!r}; beats must be finite numbers")
    return flat, arr.shape, scalar


def _shaped(out, shape, scalar):
    return float(out[0]) if scalar else out.reshape(shape)


class Groove:
    """A monotone map of beats to grooved beats whose deviation repeats.

    Build one with :func:`template`, :func:`swing`, :func:`blend`,
    :func:`straight` or :meth:`scaled`; instances are immutable values.

    Attributes
    ----------
    kind : str
        ``"straight"``, ``"swing"``, ``"template"``, ``"blend"``.
    period_beat : float
        Period of the deviation in beats.
    grid : str
        The grid the groove is laid on (a blend: that of its heaviest part).
    grid_beat : float
        Length of one grid step in beats.
    timing : float
        Timing amount applied to the built curve (1 unless ``scaled``).
    params : dict
        The parameters it was built from, for display and presets.
    """

    __slots__ = (
        "kind",
        "grid",
        "timing",
        "params",
        "_period",
        "_step",
        "_grid_step",
        "_coef",
        "_ytab",
        "_bucket",
        "_guess",
        "_accents",
        "_dev_range",
        "_max_timing",
    )

    def __init__(
        self,
        kind,
        grid,
        params,
        period: Fraction,
        step: Fraction,
        coef: np.ndarray,
        accents,
        timing=1.0,
    ):
        self.kind = kind
        self.grid = grid
        self.params = params
        self.timing = float(timing)
        self._period = period
        self._step = step
        self._grid_step = grid_step_beat(grid)
        self._accents = tuple(accents)
        h, p = float(step), float(period)
        min_slope, where = _build.slope_range(coef, h)
        k = int(np.argmin(min_slope))
        if 1.0 + min_slope[k] < -_SLOPE_TOL:
            raise GrooveError(
                f"{kind}: the curve folds back (slope {1.0 + min_slope[k]:.3g} < 0) "
                f"at beat {k * h + where[k]:.6g}; a groove must never move a later note "
                "before an earlier one"
            )
        dmin = float(min_slope.min())
        self._max_timing = math.inf if dmin >= 0.0 else -1.0 / dmin
        # Read-only from the start: numba types read-only arrays apart, so
        # building the guess table with writable ones would load every kernel
        # twice (once per flavour) from the cache.
        self._coef = np.array(coef, dtype=np.float64, order="C")
        ytab, bucket = _build.tables(self._coef, h, p)
        self._ytab = np.maximum.accumulate(ytab)
        self._bucket = bucket
        for arr in (self._coef, self._ytab, self._bucket):
            arr.setflags(write=False)
        self._guess = None  # built on first need (inverse, tables): forward maps never use it
        self._dev_range = _build.deviation_range(self._coef, h)

    def _guess_table(self) -> np.ndarray:
        # A race between two threads builds the same table twice; either is kept.
        guess = self._guess
        if guess is None:
            guess = self._build_guess(int(min(max(256, 32 * self._coef.shape[0]), 1 << 14)))
            guess.setflags(write=False)
            self._guess = guess
        return guess

    def _build_guess(self, n_cells):
        k = _kernels()
        h, p = float(self._step), float(self._period)

        def inverse_at(y):
            out = np.empty_like(y)
            k.inverse_safe_many(y, p, h, self._coef, self._ytab, self._bucket, out)
            return out

        def slope_at(x):
            out = np.empty_like(x)
            k.slope_many(x, p, h, self._coef, out)
            return out

        return _build.guess_table(p, self._ytab, inverse_at, slope_at, n_cells)

    # -- properties -----------------------------------------------------
    @property
    def period_beat(self) -> float:
        return float(self._period)

    @property
    def grid_beat(self) -> float:
        return float(self._grid_step)

    @property
    def min_deviation_beat(self) -> float:
        """Smallest D over a period, in beats (negative: the largest early move)."""
        return self._dev_range[0]

    @property
    def max_deviation_beat(self) -> float:
        """Largest late move (most positive D) in beats."""
        return self._dev_range[1]

    @property
    def max_timing(self) -> float:
        """Largest timing amount for which ``scaled`` stays monotone (inf if none)."""
        return self._max_timing

    @property
    def is_identity(self) -> bool:
        return not self._coef.any()

    def tables(self) -> CurveTables:
        """The compiled curve as plain arrays for numba code elsewhere."""
        return CurveTables(
            float(self._period),
            float(self._step),
            self._coef,
            self._ytab,
            self._bucket,
            self._guess_table(),
        )

    # -- evaluation -----------------------------------------------------
    def forward(self, beats):
        """T(beats): where each position lands in grooved time (beats)."""
        x, shape, scalar = _as_positions(beats, "beats")
        out = np.empty_like(x)
        _kernels().forward_many(x, float(self._period), float(self._step), self._coef, out)
        return _shaped(out, shape, scalar)

    def deviation(self, beats):
        """D(beats) = T(beats) - beats."""
        x, shape, scalar = _as_positions(beats, "beats")
        out = np.empty_like(x)
        _kernels().deviation_many(x, float(self._period), float(self._step), self._coef, out)
        return _shaped(out, shape, scalar)

    def derivative(self, beats):
        """T'(beats) (the right derivative at knots)."""
        x, shape, scalar = _as_positions(beats, "beats")
        out = np.empty_like(x)
        _kernels().slope_many(x, float(self._period), float(self._step), self._coef, out)
        return _shaped(out, shape, scalar)

    def inverse(self, beats):
        """The smallest t with T(t) >= beats, for each grooved position."""
        return self.inverse_counted(beats)[0]

    def inverse_counted(self, beats):
        """``inverse`` plus the number of curve evaluations each inversion took."""
        y, shape, scalar = _as_positions(beats, "beats")
        out = np.empty_like(y)
        evals = np.zeros(y.size, dtype=np.int64)
        _kernels().inverse_many(
            y,
            float(self._period),
            float(self._step),
            self._coef,
            self._ytab,
            self._bucket,
            self._guess_table(),
            out,
            evals,
        )
        return _shaped(out, shape, scalar), (int(evals[0]) if scalar else evals.reshape(shape))

    def accent(self, beats):
        """Velocity accent (0..1) at each position: its nearest grid step's value."""
        x, shape, scalar = _as_positions(beats, "beats")
        out = np.zeros_like(x)
        for part in self._accents:
            idx = np.rint(x / part.step_beat).astype(np.int64) % part.values.size
            out += part.weight * part.values[idx]
        return _shaped(out, shape, scalar)

    # -- derived grooves --------------------------------------------------
    def scaled(self, amount) -> Groove:
        """T_a(t) = t + amount * D(t): the timing amount, 0 .. 1.3.

        Raises GrooveError outside [0, 1.3] or where the curve would fold back,
        naming the largest amount that is still monotone.
        """
        a = _check_number(amount, "timing")
        if not 0.0 <= a <= MAX_TIMING:
            raise GrooveError(
                f"timing: {a!r} is outside [0, {MAX_TIMING}]; use 0 (straight) "
                f"to {MAX_TIMING} (130%)"
            )
        if a > self._max_timing * (1.0 + 1e-12):
            min_slope, where = _build.slope_range(self._coef, float(self._step))
            k = int(np.argmin(min_slope))
            raise GrooveError(
                f"timing: {a:g} folds the {self.kind} back at beat "
                f"{k * float(self._step) + where[k]:.6g} (its slope goes negative); the largest "
                f"monotone timing is {math.floor(self._max_timing * 1e6) / 1e6:.6f}"
            )
        params = dict(self.params, timing=a * self.timing)
        return Groove(
            self.kind,
            self.grid,
            params,
            self._period,
            self._step,
            self._coef * a,
            self._accents,
            a * self.timing,
        )

    def __repr__(self):
        shown = ", ".join(
            f"{k}={v!r}"
            for k, v in self.params.items()
            if k not in ("offsets", "velocity", "parts")
        )
        return f"<Groove {self.kind} period={self.period_beat:g} {shown}>"

    def __eq__(self, other):
        return (
            isinstance(other, Groove)
            and self._period == other._period
            and self._step == other._step
            and np.array_equal(self._coef, other._coef)
        )

    def __hash__(self):
        return hash((self._period, self._step, self._coef.tobytes()))


def _check_number(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise GrooveError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise GrooveError(f"{name}: must be finite, got {value!r}")
    return value
