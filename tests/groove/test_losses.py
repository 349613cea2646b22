"""groove.losses: hand-computed values, slow scalar references, finite differences."""

import numpy as np
import pytest

from groove import GrooveError
from groove.losses import contrastive, huber, interval_giou, interval_iou, mse, note_giou, note_iou


def central_diff(f, x, h=1e-6):
    """d f(x) / d x for scalar-valued f over every element of x (float64 array)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        grad[idx] = (f(xp) - f(xm)) / (2 * h)
    return grad


# -- slow scalar references -----------------------------------------------------
def ref_box_iou(lo_a, hi_a, lo_b, hi_b, generalized):
    inter = hull = area_a = area_b = 1.0
    for la, ha, lb, hb in zip(lo_a, hi_a, lo_b, hi_b):
        inter *= max(0.0, min(ha, hb) - max(la, lb))
        hull *= max(ha, hb) - min(la, lb)
        area_a *= ha - la
        area_b *= hb - lb
    union = area_a + area_b - inter
    return inter / union - ((hull - union) / hull if generalized else 0.0)


def ref_note_iou(a, b, generalized):
    return ref_box_iou(
        [a[0], a[2] - 0.5], [a[1], a[2] + 0.5], [b[0], b[2] - 0.5], [b[1], b[2] + 0.5], generalized
    )


def random_notes(rng, n):
    start = rng.uniform(0, 4, n)
    return np.stack([start, start + rng.uniform(0.1, 2, n), rng.uniform(58, 62, n)], axis=-1)


def away_from_kinks(a, b, gap=1e-3):
    """Pairs whose compared edges are not within `gap` of each other."""
    edges_a = [a[:, 0], a[:, 1], a[:, 2] - 0.5, a[:, 2] + 0.5]
    edges_b = [b[:, 0], b[:, 1], b[:, 2] - 0.5, b[:, 2] + 0.5]
    ok = np.ones(len(a), bool)
    for ea in edges_a[:2]:
        for eb in edges_b[:2]:
            ok &= np.abs(ea - eb) > gap
    for ea in edges_a[2:]:
        for eb in edges_b[2:]:
            ok &= np.abs(ea - eb) > gap
    return ok


# -- mse and huber ------------------------------------------------------------------
def test_mse_value_and_gradient():
    value, grad = mse([1.0, 2.0, 4.0], [1.0, 0.0, 1.0])
    assert value == pytest.approx((0 + 4 + 9) / 3)
    np.testing.assert_allclose(grad, [0.0, 4 / 3, 2.0])
    rng = np.random.default_rng(0)
    p, t = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    np.testing.assert_allclose(mse(p, t)[1], central_diff(lambda q: mse(q, t)[0], p), atol=1e-8)
    assert mse([], []) == (0.0, pytest.approx(np.zeros(0)))


def test_huber_hand_values():
    value, grad = huber([0.0, 0.5, -0.5, 3.0, -3.0], delta=1.0)
    np.testing.assert_allclose(value, [0.0, 0.125, 0.125, 2.5, 2.5])
    np.testing.assert_allclose(grad, [0.0, 0.5, -0.5, 1.0, -1.0])
    value, grad = huber([0.1, 1.0], delta=0.2)
    np.testing.assert_allclose(value, [0.005, 0.2 * (1.0 - 0.1)])
    np.testing.assert_allclose(grad, [0.1, 0.2])


def test_huber_gradient_matches_finite_differences_away_from_the_kink():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 2, 200)
    delta = 0.7
    r = r[np.abs(np.abs(r) - delta) > 1e-3]
    fd = (huber(r + 1e-6, delta)[0] - huber(r - 1e-6, delta)[0]) / 2e-6
    np.testing.assert_allclose(huber(r, delta)[1], fd, atol=1e-7)


def test_huber_is_continuous_with_its_gradient_at_delta():
    delta = 0.3
    for edge in (delta, -delta):
        below = np.nextafter(edge, 0.0)
        above = np.nextafter(edge, 2 * edge)
        values, grads = huber([below, edge, above], delta)
        assert np.ptp(values) < 1e-15
        assert np.ptp(grads) < 1e-15
        assert grads[1] == pytest.approx(np.sign(edge) * delta)


def test_huber_rejects_bad_delta():
    with pytest.raises(GrooveError, match="delta"):
        huber([1.0], delta=0.0)


# -- IoU and GIoU ---------------------------------------------------------------------
def test_interval_iou_hand_values():
    iou, _ = interval_iou([[0, 2], [0, 1], [0, 1], [0, 4]], [[1, 3], [0, 1], [2, 3], [1, 2]])
    np.testing.assert_allclose(iou, [1 / 3, 1.0, 0.0, 0.25])
    giou, _ = interval_giou([[0, 1], [0, 2]], [[2, 3], [1, 3]])
    np.testing.assert_allclose(giou, [0.0 - 1 / 3, 1 / 3])


def test_note_iou_hand_values():
    a = [[0, 2, 60], [0, 2, 60], [0, 2, 60], [0, 1, 60]]
    b = [[1, 3, 60], [0, 2, 60], [0, 2, 61], [0, 1, 60.5]]
    iou, _ = note_iou(a, b)
    np.testing.assert_allclose(iou, [1 / 3, 1.0, 0.0, 0.5 / 1.5])


def test_iou_matches_the_scalar_reference():
    rng = np.random.default_rng(2)
    a, b = random_notes(rng, 300), random_notes(rng, 300)
    for generalized, fn in ((False, note_iou), (True, note_giou)):
        ref = [ref_note_iou(x, y, generalized) for x, y in zip(a, b)]
        np.testing.assert_allclose(fn(a, b)[0], ref, rtol=1e-12, atol=1e-15)
        ref = [ref_box_iou([x[0]], [x[1]], [y[0]], [y[1]], generalized) for x, y in zip(a, b)]
        fn_1d = interval_giou if generalized else interval_iou
        np.testing.assert_allclose(fn_1d(a[:, :2], b[:, :2])[0], ref, rtol=1e-12, atol=1e-15)


def test_giou_range_and_order():
    rng = np.random.default_rng(3)
    a, b = random_notes(rng, 2000), random_notes(rng, 2000)
    giou, _ = note_giou(a, b)
    iou, _ = note_iou(a, b)
    assert (giou >= -1).all() and (giou <= 1).all()
    assert (giou <= iou + 1e-15).all()
    assert (iou >= 0).all() and (iou <= 1).all()
    np.testing.assert_allclose(note_giou(a, a)[0], 1.0)


@pytest.mark.parametrize("fn", [note_iou, note_giou])
def test_note_gradients_match_finite_differences(fn):
    rng = np.random.default_rng(4)
    a, b = random_notes(rng, 200), random_notes(rng, 200)
    keep = away_from_kinks(a, b)
    a, b = a[keep], b[keep]
    _, grad = fn(a, b)
    fd = central_diff(lambda x: np.sum(fn(x, b)[0]), a)
    np.testing.assert_allclose(grad, fd, atol=1e-7)


@pytest.mark.parametrize("fn", [interval_iou, interval_giou])
def test_interval_gradients_match_finite_differences(fn):
    rng = np.random.default_rng(5)
    a, b = random_notes(rng, 200)[:, :2], random_notes(rng, 200)[:, :2]
    keep = np.ones(len(a), bool)
    for i in range(2):
        for j in range(2):
            keep &= np.abs(a[:, i] - b[:, j]) > 1e-3
    a, b = a[keep], b[keep]
    fd = central_diff(lambda x: np.sum(fn(x, b)[0]), a)
    np.testing.assert_allclose(fn(a, b)[1], fd, atol=1e-7)


def test_disjoint_notes_get_a_pulling_giou_gradient():
    b = np.array([[3.0, 4.0, 64.0]])
    a = np.array([[0.0, 1.0, 60.0]])  # earlier and lower
    iou, iou_grad = note_iou(a, b)
    assert iou[0] == 0.0 and not iou_grad.any()
    giou, grad = note_giou(a, b)
    assert giou[0] < 0
    # moving the whole note later (start and end together) and higher helps
    assert grad[0, 0] + grad[0, 1] > 0 and grad[0, 2] > 0
    start = a.copy()
    for _ in range(200):  # ascend on GIoU
        a = a + 0.5 * note_giou(a, b)[1]
    assert note_giou(a, b)[0][0] > giou[0]

    def centre(n):
        return np.array([0.5 * (n[0, 0] + n[0, 1]), n[0, 2]])

    assert np.all(np.abs(centre(a) - centre(b)) < np.abs(centre(start) - centre(b)))
    assert note_iou(a, b)[0][0] > 0


def test_disjoint_intervals_are_pulled_together_from_either_side():
    for a, sign in (([0.0, 1.0], 1.0), ([5.0, 6.0], -1.0)):
        giou, grad = interval_giou([a], [[2.0, 3.0]])
        assert giou[0] < 0
        # the derivative along a shift of the whole interval points toward b
        assert np.sign(grad[0].sum()) == sign


def test_iou_rejects_empty_notes_and_shape_mismatch():
    with pytest.raises(GrooveError, match="item 1 has end <= start"):
        note_iou([[0, 1, 60], [2, 2, 60]], [[0, 1, 60], [0, 1, 60]])
    with pytest.raises(GrooveError, match="shape"):
        note_giou([[0, 1, 60]], [[0, 1, 60], [0, 1, 60]])
    with pytest.raises(GrooveError, match=r"\(\.\.\., 3\)"):
        note_iou([[0, 1]], [[0, 1]])


# -- contrastive ------------------------------------------------------------------------
def test_contrastive_hand_values():
    a = np.array([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    b = np.array([[3.0, 4.0], [0.3, 0.4], [3.0, 4.0], [0.0, 0.0]])
    same = np.array([True, False, False, False])
    value, grad = contrastive(a, b, same, margin=1.0)
    np.testing.assert_allclose(value, [25.0, 0.25, 0.0, 1.0])
    np.testing.assert_allclose(grad[0], [-6.0, -8.0])  # pulls a toward b
    np.testing.assert_allclose(grad[1], [0.6, 0.8])  # descent pushes a away
    np.testing.assert_allclose(grad[2], [0.0, 0.0])  # beyond the margin: left alone
    np.testing.assert_allclose(grad[3], [0.0, 0.0])  # direction undefined at d = 0


def test_contrastive_gradients_match_finite_differences():
    rng = np.random.default_rng(6)
    a, b = rng.normal(size=(100, 5)), rng.normal(size=(100, 5))
    same = rng.random(100) < 0.5
    margin = 3.0
    dist = np.linalg.norm(a - b, axis=1)
    keep = np.abs(dist - margin) > 1e-3
    a, b, same = a[keep], b[keep], same[keep]
    assert (~same & (dist[keep] < margin)).any() and (~same & (dist[keep] > margin)).any()
    value, grad = contrastive(a, b, same, margin)
    np.testing.assert_allclose(
        grad, central_diff(lambda x: np.sum(contrastive(x, b, same, margin)[0]), a), atol=1e-7
    )
    np.testing.assert_allclose(
        -grad, central_diff(lambda y: np.sum(contrastive(a, y, same, margin)[0]), b), atol=1e-7
    )


def test_contrastive_validates_input():
    with pytest.raises(GrooveError, match="same"):
        contrastive(np.zeros((2, 3)), np.zeros((2, 3)), [True], 1.0)
    with pytest.raises(GrooveError, match="margin"):
        contrastive(np.zeros((2, 3)), np.zeros((2, 3)), [True, False], -1.0)
