"""groove: the maths of musical grooves.

A groove is a monotone map T of beats to beats whose deviation T(t) - t
repeats every period.  Build grooves with :func:`template`, :func:`swing`,
:func:`straight` and :func:`blend`; evaluate them with ``Groove.forward`` and
invert them with ``Groove.inverse`` (safeguarded Newton, numba-compiled).
Call :func:`warmup` before real-time use so nothing compiles later.

This package is pure maths: it imports no YAML, MIDI or audio library.
"""

from .curve import MAX_TIMING, CurveTables, Groove, blend, straight, swing, template
from .errors import GrooveError
from .grid import GRIDS, MAX_PERIOD_BEAT, grid_step_beat

__all__ = [
    "Groove",
    "GrooveError",
    "CurveTables",
    "template",
    "swing",
    "straight",
    "blend",
    "warmup",
    "load",
    "grid_step_beat",
    "GRIDS",
    "MAX_TIMING",
    "MAX_PERIOD_BEAT",
]
__version__ = "0.1.0"


def warmup() -> None:
    """Compile (or load from numba's cache) every kernel now.

    Call before a stream starts: afterwards no groove evaluation compiles,
    and every kernel runs compiled (small calls included; see
    ``groove._numba``).  Safe to call more than once.
    """
    import numpy as np

    from . import _numba

    _numba.compile_all()

    g = blend([(template([0.0, 0.1, -0.1, 0.2], interp="pchip", period=1), 1.0), (swing(60), 1.0)])
    x = np.linspace(-1.0, 5.0, 7)
    g.forward(x)
    g.inverse(x)
    g.derivative(x)
    g.deviation(x)
    from . import kernels
    from .transform import note_noise

    kernels.warmup()
    # humanize's noise, live: one note's broadcast track key is a read-only array,
    # several notes' a copy, and numba compiles each kind of array apart
    for n in (1, 2):
        note_noise(0, 0, 0, np.zeros(n, np.int64))


def load(name_or_path):
    """Load a preset by name or path: the groove with its lanes and default amounts.

    A convenience for ``engine.presets.load`` (the YAML reader lives in the
    engine package so that this package stays free of I/O libraries).
    """
    from engine.presets import load as _load

    return _load(name_or_path)
