"""Losses with analytic gradients for fitting and comparing grooves.

Every function returns ``(value, grad)``, vectorised over leading axes:

* ``mse(pred, target)``: scalar mean of squared errors; grad w.r.t. ``pred``.
* ``huber(residual, delta)``: elementwise loss and derivative (sum them).
* ``interval_iou``, ``interval_giou``, ``note_iou``, ``note_giou``: the
  similarity (1 = identical) per pair of boxes and its gradient w.r.t. the
  first box.  Use ``1 - value`` and ``-grad`` as a loss.  All four are
  symmetric, so the gradient w.r.t. the second box is that of the call with
  the arguments swapped.
* ``contrastive(a, b, same, margin)``: loss per pair and gradient w.r.t.
  ``a``; the gradient w.r.t. ``b`` is its negative.

At kinks (Huber has none in its gradient; IoU boxes with equal edges,
contrastive pairs exactly at the margin or at distance 0) the gradient is
one of the one-sided derivatives (a subgradient where the loss is convex).
"""

from __future__ import annotations

import numpy as np

from .errors import GrooveError

#: Half the height of a note box in semitones: a note covers pitch +- 0.5.
NOTE_HALF_HEIGHT = 0.5


def _array(values, name):
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise GrooveError(f"{name}: expected an array of numbers, got {values!r}") from None
    if not np.isfinite(arr).all():
        i = int(np.flatnonzero(~np.isfinite(arr.reshape(-1)))[0])
        raise GrooveError(f"{name}: element {i} is {arr.reshape(-1)[i]!r}; must be finite")
    return arr


def _same_shape(a, b, names):
    if a.shape != b.shape:
        raise GrooveError(
            f"{names[0]}, {names[1]}: shapes {a.shape} and {b.shape} differ; "
            "pass arrays of the same shape"
        )


# -- regression losses -------------------------------------------------------
def mse(pred, target):
    """Mean squared error and its gradient w.r.t. ``pred``.

    Returns
    -------
    value : float
        ``mean((pred - target)**2)`` (0 for empty input).
    grad : ndarray
        ``2 * (pred - target) / pred.size``, the shape of ``pred``.
    """
    p, t = _array(pred, "pred"), _array(target, "target")
    _same_shape(p, t, ("pred", "target"))
    if p.size == 0:
        return 0.0, np.zeros_like(p)
    r = p - t
    return float(np.mean(r * r)), 2.0 * r / r.size


def huber(residual, delta=1.0):
    """Huber loss per element and its derivative.

    ``r**2 / 2`` for ``|r| <= delta``, ``delta * (|r| - delta / 2)`` beyond:
    quadratic near 0, linear in the tails so outliers pull with a bounded
    force.  The derivative ``clip(r, -delta, delta)`` is continuous.

    Parameters
    ----------
    residual : array_like
    delta : float
        Where the quadratic turns linear (> 0), in the residual's unit.

    Returns
    -------
    value, grad : ndarray
        Both the shape of ``residual``.
    """
    r = _array(residual, "residual")
    delta = _positive(delta, "delta")
    a = np.abs(r)
    value = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return value, np.clip(r, -delta, delta)


def _positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise GrooveError(f"{name}: expected a number, got {value!r}")
    value = float(value)
    if not (np.isfinite(value) and value > 0.0):
        raise GrooveError(f"{name}: {value!r} must be a finite number > 0")
    return value


# -- IoU of axis-aligned boxes -------------------------------------------------
def _others_product(w, j):
    """Product over the last axis of w without column j."""
    return np.prod(np.delete(w, j, axis=-1), axis=-1)


def _box_iou(lo_a, hi_a, lo_b, hi_b, generalized):
    """(G)IoU of boxes [lo, hi] (shape (..., d)) and its gradient w.r.t. lo_a, hi_a.

    Gradients are right derivatives (for moving an edge of ``a`` up), so at
    equal edges they pick one side of the kink.
    """
    w_int = np.maximum(np.minimum(hi_a, hi_b) - np.maximum(lo_a, lo_b), 0.0)
    w_a, w_b = hi_a - lo_a, hi_b - lo_b
    w_hull = np.maximum(hi_a, hi_b) - np.minimum(lo_a, lo_b)
    inter, hull = np.prod(w_int, axis=-1), np.prod(w_hull, axis=-1)
    union = np.prod(w_a, axis=-1) + np.prod(w_b, axis=-1) - inter

    def chain(d_inter, d_area_a, d_hull):
        d_union = d_area_a - d_inter
        grad = (d_inter * union - inter * d_union) / union**2
        if generalized:
            grad = grad + (d_union * hull - union * d_hull) / hull**2
        return grad

    d_lo, d_hi = np.zeros_like(lo_a), np.zeros_like(hi_a)
    for j in range(lo_a.shape[-1]):
        i_rest = np.where(w_int[..., j] > 0.0, _others_product(w_int, j), 0.0)
        a_rest, h_rest = _others_product(w_a, j), _others_product(w_hull, j)
        hi_inside = hi_a[..., j] < hi_b[..., j]  # a's upper edge bounds the overlap
        lo_inside = lo_a[..., j] >= lo_b[..., j]  # a's lower edge bounds the overlap
        d_hi[..., j] = chain(
            np.where(hi_inside, i_rest, 0.0), a_rest, np.where(hi_inside, 0.0, h_rest)
        )
        d_lo[..., j] = chain(
            -np.where(lo_inside, i_rest, 0.0), -a_rest, -np.where(lo_inside, 0.0, h_rest)
        )
    iou = inter / union
    value = iou - (hull - union) / hull if generalized else iou
    return value, d_lo, d_hi


def _intervals(a, name):
    arr = _array(a, name)
    if arr.ndim < 1 or arr.shape[-1] != 2:
        raise GrooveError(f"{name}: expected shape (..., 2) of [start, end], got {arr.shape}")
    _check_lengths(arr[..., 1] - arr[..., 0], name)
    return arr


def _notes(a, name):
    arr = _array(a, name)
    if arr.ndim < 1 or arr.shape[-1] != 3:
        raise GrooveError(
            f"{name}: expected shape (..., 3) of [start_beat, end_beat, pitch], got {arr.shape}"
        )
    _check_lengths(arr[..., 1] - arr[..., 0], name)
    return arr


def _check_lengths(length, name):
    bad = np.flatnonzero(~(np.reshape(length, -1) > 0.0))
    if bad.size:
        raise GrooveError(
            f"{name}: item {int(bad[0])} has end <= start; every interval or "
            "note must last > 0 beats (drop or lengthen zero-length notes)"
        )


def _interval_call(a, b, generalized):
    a, b = _intervals(a, "a"), _intervals(b, "b")
    _same_shape(a, b, ("a", "b"))
    value, d_lo, d_hi = _box_iou(a[..., :1], a[..., 1:], b[..., :1], b[..., 1:], generalized)
    return value, np.concatenate([d_lo, d_hi], axis=-1)


def _note_call(a, b, generalized):
    a, b = _notes(a, "a"), _notes(b, "b")
    _same_shape(a, b, ("a", "b"))

    def box(n):
        lo = np.stack([n[..., 0], n[..., 2] - NOTE_HALF_HEIGHT], axis=-1)
        hi = np.stack([n[..., 1], n[..., 2] + NOTE_HALF_HEIGHT], axis=-1)
        return lo, hi

    value, d_lo, d_hi = _box_iou(*box(a), *box(b), generalized)
    # the pitch moves both pitch edges of the box together
    grad = np.stack([d_lo[..., 0], d_hi[..., 0], d_lo[..., 1] + d_hi[..., 1]], axis=-1)
    return value, grad


def interval_iou(a, b):
    """Intersection over union of intervals ``[start, end]`` (shape (..., 2)).

    Returns ``(iou, grad)``: iou in [0, 1] of shape (...), grad (..., 2)
    w.r.t. ``a``'s start and end.  Disjoint intervals have iou 0 and a zero
    gradient; use :func:`interval_giou` to pull them together.
    """
    return _interval_call(a, b, generalized=False)


def interval_giou(a, b):
    """Generalised IoU of intervals: ``iou - (hull - union) / hull``, in [-1, 1].

    The hull term keeps a gradient for disjoint intervals that pulls ``a``
    toward ``b``.  Returns ``(giou, grad)`` as :func:`interval_iou`.
    """
    return _interval_call(a, b, generalized=True)


def note_iou(a, b):
    """IoU of notes as boxes in time x pitch.

    A note ``[start_beat, end_beat, pitch]`` is the box
    ``[start, end] x [pitch - 0.5, pitch + 0.5]``, so notes a semitone or more
    apart never overlap.  ``a``, ``b``: shape (..., 3).

    Returns
    -------
    iou : ndarray, shape (...)
    grad : ndarray, shape (..., 3)
        d iou / d (start, end, pitch) of ``a``.
    """
    return _note_call(a, b, generalized=False)


def note_giou(a, b):
    """Generalised IoU of notes as boxes (see :func:`note_iou`), in [-1, 1].

    Disjoint notes score below 0, lower the farther apart they are, and
    ascending the gradient w.r.t. ``a`` moves its centre toward ``b`` in time
    and pitch (it also grows ``a``: a bigger box raises the union).
    """
    return _note_call(a, b, generalized=True)


# -- contrastive loss --------------------------------------------------------
def contrastive(a, b, same, margin=1.0):
    """Contrastive loss on pairs of embeddings (Hadsell, Chopra, LeCun 2006).

    With d the Euclidean distance of ``a[i]`` and ``b[i]``: pairs of the same
    kind cost ``d**2`` (pulled together); pairs of different kinds cost
    ``max(0, margin - d)**2`` (pushed apart until ``margin``, then left alone).

    Parameters
    ----------
    a, b : array_like, shape (..., k)
    same : array_like of bool, shape (...)
    margin : float
        Distance beyond which different pairs cost nothing (> 0).

    Returns
    -------
    value : ndarray, shape (...)
    grad : ndarray, shape (..., k)
        w.r.t. ``a`` (w.r.t. ``b`` it is ``-grad``).  For a different pair
        at distance exactly 0 the direction is undefined and the gradient is 0.
    """
    a, b = _array(a, "a"), _array(b, "b")
    _same_shape(a, b, ("a", "b"))
    if a.ndim < 1:
        raise GrooveError("a: expected embeddings of shape (..., k), got a scalar")
    same = np.asarray(same, dtype=bool)
    if same.shape != a.shape[:-1]:
        raise GrooveError(f"same: shape {same.shape} does not match the pairs {a.shape[:-1]}")
    margin = _positive(margin, "margin")
    diff = a - b
    dist = np.sqrt(np.sum(diff * diff, axis=-1))
    gap = np.maximum(margin - dist, 0.0)
    value = np.where(same, dist * dist, gap * gap)
    with np.errstate(divide="ignore", invalid="ignore"):
        push = np.where(dist > 0.0, -2.0 * gap / dist, 0.0)
    scale = np.where(same, 2.0, push)
    return value, scale[..., None] * diff
