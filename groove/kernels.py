"""Scalar groove kernels for use inside other packages' numba code.

Each takes the arrays of :meth:`groove.Groove.tables` unpacked and is itself a
``groove._numba.Kernel`` (an ``@njit`` function once compiled), so an engine
kernel can call them per event without leaving compiled code.  They never
raise; validate inputs beforehand.
"""

import numpy as np

from ._kernels import MAX_EVALS, deviation_one, forward_one, inverse_one, slope_one
from ._numba import compile_all

__all__ = ["forward_one", "inverse_one", "deviation_one", "slope_one", "MAX_EVALS", "warmup"]


def warmup() -> None:
    """Compile the scalar kernels for float64 tables."""
    compile_all()
    coef = np.zeros((1, 4))
    ytab = np.array([0.0, 1.0])
    bucket = np.zeros(64, np.int64)
    forward_one(0.5, 1.0, 1.0, coef)
    slope_one(0.5, 1.0, 1.0, coef)
    deviation_one(0.5, 1.0, 1.0, coef)
    inverse_one(0.5, 1.0, 1.0, coef, ytab, bucket, np.zeros((64, 4)), np.zeros(1, np.int64))
