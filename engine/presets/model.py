"""The preset value types: a groove with its lanes and default amounts.

Plain frozen dataclasses, shared by the YAML reader (``engine.presets``), the
renderer, the block engine and the CLI.  Nothing here reads files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from groove import Groove, GrooveError


@dataclass(frozen=True)
class Amounts:
    """How strongly rendering applies a groove.

    Attributes
    ----------
    timing : float
        0 .. 1.3; T_a(t) = t + timing * D(t).
    quantize : float
        0 .. 1; pulls each note start toward the grid before the groove.
    velocity : float
        -1 .. 1; velocity factor = 1 + velocity * (accent - 1).
    random_ms : float
        >= 0; Gaussian timing sigma in milliseconds, clipped at 2.5 sigma.
    random_velocity : float
        >= 0; Gaussian velocity sigma in velocity units.
    seed : int
        Seed of the deterministic random offsets.
    """

    timing: float = 1.0
    quantize: float = 0.0
    velocity: float = 0.0
    random_ms: float = 0.0
    random_velocity: float = 0.0
    seed: int = 0

    def __post_init__(self):
        for name, lo, hi in (
            ("timing", 0.0, 1.3),
            ("quantize", 0.0, 1.0),
            ("velocity", -1.0, 1.0),
            ("random_ms", 0.0, 1000.0),
            ("random_velocity", 0.0, 127.0),
        ):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not math.isfinite(value)
                or not lo <= value <= hi
            ):
                raise GrooveError(f"{name}: {value!r} is outside [{lo:g}, {hi:g}]")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise GrooveError(f"seed: {self.seed!r} must be a whole number >= 0")

    def override(self, **changes) -> Amounts:
        """A copy with the given fields replaced; ``None`` values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def is_identity(self) -> bool:
        """True when applying these amounts can change nothing at all."""
        return (
            self.timing == 0
            and self.quantize == 0
            and self.velocity == 0
            and self.random_ms == 0
            and self.random_velocity == 0
        )


@dataclass(frozen=True)
class Lane:
    """A groove of its own for the listed MIDI note numbers (e.g. the snare)."""

    name: str
    notes: tuple
    groove: Groove


@dataclass(frozen=True)
class Preset:
    """A named groove with per-instrument lanes and default amounts.

    ``groove`` and each lane's groove are unscaled; rendering applies
    ``amounts.timing`` (or an override) with ``Groove.scaled``.
    """

    name: str
    groove: Groove
    lanes: tuple = ()
    amounts: Amounts = field(default_factory=Amounts)
    description: str = ""
    kind: str = ""
    path: str | None = None

    @classmethod
    def from_groove(cls, groove: Groove, name: str = "", amounts: Amounts | None = None):
        """Wrap a bare groove as a preset without lanes."""
        return cls(
            name=name or groove.kind, groove=groove, amounts=amounts or Amounts(), kind=groove.kind
        )

    @property
    def grid_beat(self) -> float:
        """The grid quantize pulls toward, in beats."""
        return self.groove.grid_beat

    def lane_of_pitch(self) -> np.ndarray:
        """int64[128]: lane index of each MIDI pitch, -1 for the main groove."""
        table = np.full(128, -1, dtype=np.int64)
        for i, lane in enumerate(self.lanes):
            table[list(lane.notes)] = i
        return table

    def grooves(self) -> list:
        """The main groove followed by each lane's, indexed as ``lane_of_pitch() + 1``."""
        return [self.groove] + [lane.groove for lane in self.lanes]

    def groove_for(self, pitch: int) -> Groove:
        """The groove that moves notes of this pitch."""
        for lane in self.lanes:
            if pitch in lane.notes:
                return lane.groove
        return self.groove
