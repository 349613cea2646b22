"""A bank of grooves as stacked arrays, so one numba call can use any of them.

Lanes give one groove per instrument; the scheduler and the live groove
processor look up each event's lane and evaluate that lane's curve inside
compiled code.  ``GrooveBank`` pads every groove's tables to a common shape
([lane, ...]) and remembers the true sizes.
"""

from __future__ import annotations

import numpy as np

from groove import Groove


class GrooveBank:
    """Stacked curve tables of several grooves (read-only after construction).

    Parameters
    ----------
    grooves : sequence of Groove
        Lane 0 is usually the main groove; the order is the caller's.
    """

    __slots__ = (
        "grooves",
        "period",
        "step",
        "nseg",
        "coef",
        "ytab",
        "bucket",
        "nbucket",
        "guess",
        "ncell",
        "min_dev_beat",
        "max_dev_beat",
    )

    def __init__(self, grooves):
        grooves = list(grooves)
        if not grooves or not all(isinstance(g, Groove) for g in grooves):
            raise TypeError("grooves: expected a non-empty list of groove.Groove")
        tabs = [g.tables() for g in grooves]
        n = len(tabs)
        self.grooves = tuple(grooves)
        self.period = np.array([t.period_beat for t in tabs])
        self.step = np.array([t.step_beat for t in tabs])
        self.nseg = np.array([t.coef.shape[0] for t in tabs], dtype=np.int64)
        self.nbucket = np.array([t.bucket.shape[0] for t in tabs], dtype=np.int64)
        self.ncell = np.array([t.guess.shape[0] for t in tabs], dtype=np.int64)
        self.coef = np.zeros((n, self.nseg.max(), 4))
        self.ytab = np.zeros((n, self.nseg.max() + 1))
        self.bucket = np.zeros((n, self.nbucket.max()), dtype=np.int64)
        self.guess = np.zeros((n, self.ncell.max(), 4))
        for i, t in enumerate(tabs):
            self.coef[i, : t.coef.shape[0]] = t.coef
            self.ytab[i, : t.ytab.shape[0]] = t.ytab
            self.bucket[i, : t.bucket.shape[0]] = t.bucket
            self.guess[i, : t.guess.shape[0]] = t.guess
        self.min_dev_beat = np.array([g.min_deviation_beat for g in grooves])
        self.max_dev_beat = np.array([g.max_deviation_beat for g in grooves])
        for arr in (
            self.period,
            self.step,
            self.nseg,
            self.nbucket,
            self.ncell,
            self.coef,
            self.ytab,
            self.bucket,
            self.guess,
        ):
            arr.setflags(write=False)

    def __len__(self):
        return len(self.grooves)

    def args(self):
        """The arrays in the order the engine kernels take them."""
        return (
            self.period,
            self.step,
            self.nseg,
            self.coef,
            self.ytab,
            self.bucket,
            self.nbucket,
            self.guess,
            self.ncell,
        )
