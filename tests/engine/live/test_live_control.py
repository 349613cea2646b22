"""CC mapping, groove sources and the file watcher of ``groove live`` (no JACK)."""

import os
import time

import numpy as np
import pytest

import groove
from engine.live.control import CCMap, FileWatcher, GrooveSource, groove_from_params, parse_cc
from engine.presets.model import Amounts, Preset
from tests.groove.reference import RefBlend, RefTemplate, ref_swing

X = np.linspace(-1.0, 9.0, 401)


def test_parse_cc():
    assert parse_cc(["timing=1", "weight2=22,quantize=3"]) == {
        1: "timing",
        22: "weight2",
        3: "quantize",
    }
    for bad, msg in (
        (["timing"], "PARAM=CC"),
        (["timing=200"], "outside"),
        (["speed=1"], "not one of"),
        (["timing=1", "velocity=1"], "mapped twice"),
        (["weight0=4"], "not one of"),
    ):
        with pytest.raises(ValueError, match=msg):
            parse_cc(bad)


@pytest.mark.parametrize(
    "g, ref",
    [
        (groove.swing(63, "1/8"), ref_swing(63, "1/8")),
        (
            groove.template([0, 0.2, -0.1, 0.3], grid="1/16", period=1),
            RefTemplate([0, 0.2, -0.1, 0.3], "1/16", 1),
        ),
        (
            groove.blend(
                [(groove.swing(60), 1), (groove.template([0, 0.2, -0.1, 0.3], period=1), 3)]
            ),
            RefBlend(
                [(ref_swing(60, "1/16"), 1), (RefTemplate([0, 0.2, -0.1, 0.3], "1/16", 1), 3)]
            ),
        ),
    ],
)
def test_groove_from_params_rebuilds_the_same_curve(g, ref):
    again = groove_from_params(g.params)
    np.testing.assert_allclose(again.forward(X), ref.forward(X), atol=1e-12)


def test_cc_drives_timing_and_blend_weights():
    sw, tp = groove.swing(66), groove.template([0, 0.2, -0.1, 0.3], period=1)
    preset = Preset("b", groove.blend([(sw, 1), (tp, 1)]))
    cc = CCMap({1: "timing", 21: "weight1", 22: "weight2", 3: "velocity"})
    cc.check(preset)
    cc.values.update(timing=50, weight1=127, weight2=0, velocity=127)
    new, amounts = cc.apply(preset, Amounts())
    assert amounts.timing == pytest.approx(0.5) and amounts.velocity == pytest.approx(1.0)
    # Weight 0 for the template: the blend is the swing alone.
    np.testing.assert_allclose(new.groove.forward(X), ref_swing(66, "1/16").forward(X), atol=1e-12)


def test_cc_timing_stays_below_the_fold_back_limit():
    steep = groove.template([0, 0.5, -0.45, 0.0], period=1)  # folds back past ~1.05
    assert steep.max_timing < 1.27
    preset = Preset("s", steep)
    cc = CCMap({1: "timing"})
    cc.values["timing"] = 127
    _, amounts = cc.apply(preset, Amounts())
    assert amounts.timing <= steep.max_timing
    steep.scaled(amounts.timing)  # usable: does not raise


def test_cc_weight_needs_a_blend():
    with pytest.raises(ValueError, match="not a blend"):
        CCMap({21: "weight1"}).check(Preset("s", groove.swing(60)))


def write_atomic(path, text):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_source_needs_exactly_one_of_preset_and_rack():
    with pytest.raises(ValueError, match="not both or neither"):
        GrooveSource()
    with pytest.raises(ValueError, match="not both or neither"):
        GrooveSource("a", "b")


def test_watcher_loads_changes_and_reports_errors_with_file_line(tmp_path):
    path = tmp_path / "w.yaml"
    write_atomic(path, "name: w\nkind: swing\namount: 55\ngrid: 1/16\n")
    source = GrooveSource(str(path))
    rack, preset = source.load()
    assert rack is None and preset.groove.params["amount"] == 55
    watcher = FileWatcher(source, interval_sec=0.02)
    watcher.start()
    try:
        time.sleep(0.05)
        write_atomic(path, "name: w\nkind: swing\namount: 61\ngrid: 1/16\n# edited\n")
        result = wait_result(watcher)
        assert result[0] == "ok" and result[1][1].groove.params["amount"] == 61
        write_atomic(path, "name: w\nkind: swing\namount: 161\ngrid: 1/16\n")
        status, message = wait_result(watcher)
        assert status == "error" and message.startswith(f"{path}:3:")
    finally:
        watcher.stop()


def wait_result(watcher, timeout_sec=5.0):
    deadline = time.monotonic() + timeout_sec
    while not watcher.results and time.monotonic() < deadline:
        time.sleep(0.01)
    assert watcher.results, "the watcher saw no change"
    return watcher.results.popleft()
