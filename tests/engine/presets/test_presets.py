"""Presets: every shipped preset against its YAML, lookup order, writing, schema.

The shipped presets are checked against a slow reference that reads the YAML
with a plain safe loader and evaluates the curve itself (periodic linear
interpolation, scipy's PCHIP, weighted sums for blends), note by note.
"""

import json
import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import tomllib
from ruamel.yaml import YAML
from scipy.interpolate import PchipInterpolator

import groove
from engine import presets
from engine.presets import PresetError
from engine.presets.model import Amounts, Preset

REPO = Path(__file__).resolve().parents[3]
SHIPPED = REPO / "presets"
SHIPPED_NAMES = sorted(p.stem for p in SHIPPED.glob("*.yaml"))


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    """No user presets and no GROOVE_PRESET_PATH unless a test sets them."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("GROOVE_PRESET_PATH", raising=False)


# -- reference ---------------------------------------------------------------
def ref_doc(name):
    return YAML(typ="safe").load((SHIPPED / f"{name}.yaml").read_text())


def ref_step(grid):
    num = grid.rstrip("td")
    step = Fraction(4, int(num.split("/")[1]))
    return float(
        step
        * (Fraction(2, 3) if grid.endswith("t") else Fraction(3, 2) if grid.endswith("d") else 1)
    )


def ref_lane(doc, note):
    for lane in (doc.get("lanes") or {}).values():
        if note in lane["notes"]:
            return lane
    return doc


def ref_knots(doc, note):
    """(step, offsets in beats per knot, accents per knot, interp) that note follows."""
    kind, src = doc["kind"], ref_lane(doc, note)
    if kind == "straight":
        return ref_step(doc.get("grid", "1/16")), np.zeros(1), np.ones(1), "linear"
    step = ref_step(doc["grid"])
    if kind == "swing":
        return step, np.array([0.0, (src["amount"] - 50) / 50 * step]), np.ones(2), "linear"
    n = round(doc["period"] / step)
    offs = np.array(src["offsets"], dtype=float) * step
    vel = np.array(src.get("velocity", [1.0] * n), dtype=float)
    return step, offs, vel, doc.get("interp", "linear")


def ref_deviation(doc, note, t):
    """D(t) in beats for notes of pitch ``note`` (slow and obvious)."""
    if doc["kind"] == "blend":
        parts = [(ref_doc(p["groove"]), p.get("weight", 1)) for p in doc["of"]]
        total = sum(w for _, w in parts)
        return sum(w / total * ref_deviation(d, note, t) for d, w in parts)
    step, offs, _, interp = ref_knots(doc, note)
    n = offs.size
    period = n * step
    k = np.arange(-n, 2 * n + 1)
    x, y = k * step, k * step + offs[k % n]
    tt = np.mod(t, period)
    if interp == "pchip":
        return PchipInterpolator(x, y)(tt) - tt
    return np.interp(tt, x, y) - tt


def ref_accent(doc, note, t):
    if doc["kind"] == "blend":
        parts = [(ref_doc(p["groove"]), p.get("weight", 1)) for p in doc["of"]]
        total = sum(w for _, w in parts)
        return sum(w / total * ref_accent(d, note, t) for d, w in parts)
    step, _, vel, _ = ref_knots(doc, note)
    return vel[np.rint(t / step).astype(int) % vel.size]


# -- shipped presets -----------------------------------------------------------
def test_library_has_the_promised_presets():
    promised = {
        "straight",
        "shuffle-triplet",
        "funk-16",
        "hiphop-laidback",
        "rock-push",
        "reggae-onedrop",
        "halfway",
    }
    promised |= {f"swing{g}-{a}" for g in (8, 16) for a in (54, 58, 62, 66, 71, 75)}
    assert promised <= set(SHIPPED_NAMES)
    kinds = {presets.load(n).kind for n in SHIPPED_NAMES}
    assert {"swing", "template", "blend", "straight"} <= kinds


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_shipped_preset_matches_its_yaml(name):
    doc = ref_doc(name)
    p = presets.load(name)
    assert isinstance(p, Preset)
    assert (p.name, p.kind, p.description) == (name, doc["kind"], doc.get("description", ""))
    assert Path(p.path) == SHIPPED / f"{name}.yaml"
    t = np.linspace(-1.0, 9.0, 641)
    grid_t = np.arange(0, 32) * min(ref_step(doc.get("grid", "1/16")), 0.25)
    for note in range(128):
        g = p.groove_for(note)
        np.testing.assert_allclose(g.deviation(t), ref_deviation(doc, note, t), atol=1e-12)
        if doc["kind"] != "straight":
            np.testing.assert_allclose(g.accent(grid_t), ref_accent(doc, note, grid_t), atol=1e-12)
    random = doc.get("random", {})
    assert p.amounts == Amounts(
        timing=doc.get("timing", 1),
        quantize=doc.get("quantize", 0),
        velocity=doc.get("velocity_amount", 0),
        random_ms=random.get("time_ms", 0),
        random_velocity=random.get("velocity", 0),
        seed=random.get("seed", 0),
    )


def test_shipped_lanes_and_blend_lanes():
    funk = presets.load("funk-16")
    assert [(lane.name, lane.notes) for lane in funk.lanes] == [
        ("snare", (37, 38, 40)),
        ("hats", (42, 44, 46)),
    ]
    half = presets.load("halfway")
    # funk-16's lanes blend with swing16-66's one curve for those notes
    assert [(lane.name, lane.notes) for lane in half.lanes] == [
        ("snare", (37, 38, 40)),
        ("hats", (42, 44, 46)),
    ]
    assert half.groove_for(36) == half.groove and half.groove_for(38) == half.lanes[0].groove


@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_shipped_files_point_editors_at_the_schema(name):
    first = (SHIPPED / f"{name}.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=./schema.json"


def test_schema_file_is_current_and_accepts_every_shipped_preset():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((SHIPPED / "schema.json").read_text())
    assert schema == presets.json_schema(), "run: groove presets schema > presets/schema.json"
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    for name in SHIPPED_NAMES:
        assert not list(validator.iter_errors(ref_doc(name))), name
    bad = {"kind": "swing", "amount": 58, "grid": "1/16", "offsets": [0]}
    assert list(validator.iter_errors(bad))


def test_presets_found_through_importlib_resources_and_packaged():
    import importlib.resources

    root = importlib.resources.files("groove_presets")
    names = {p.name for p in root.iterdir()}
    assert {f"{n}.yaml" for n in SHIPPED_NAMES} | {"schema.json"} <= names
    assert presets.shipped_dir() == Path(str(root))
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    tool = pyproject["tool"]["setuptools"]
    assert tool["package-dir"]["groove_presets"] == "presets"
    assert {"*.yaml", "*.json"} <= set(tool["package-data"]["groove_presets"])


# -- lookup -------------------------------------------------------------------
def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


SWING = "kind: swing\namount: {a}\ngrid: 1/16\n"


def test_lookup_order_path_env_user_shipped(tmp_path, monkeypatch):
    env1, env2 = tmp_path / "env1", tmp_path / "env2"
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "groove" / "presets"
    _write(user / "swing16-58.yaml", SWING.format(a=61))
    assert presets.find("swing16-58") == user / "swing16-58.yaml"
    assert presets.load("swing16-58").groove.params["amount"] == 61
    _write(env2 / "swing16-58.yaml", SWING.format(a=63))
    _write(env1 / "mine.yml", SWING.format(a=64))
    monkeypatch.setenv("GROOVE_PRESET_PATH", f"{env1}{os.pathsep}{env2}")
    assert presets.load("swing16-58").groove.params["amount"] == 63
    assert presets.load("mine").groove.params["amount"] == 64
    assert presets.find("funk-16") == SHIPPED / "funk-16.yaml"
    explicit = _write(tmp_path / "elsewhere" / "swing16-58.yaml", SWING.format(a=65))
    assert presets.load(str(explicit)).groove.params["amount"] == 65
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert presets.load("swing16-58.yaml").groove.params["amount"] == 65
    assert presets.load("swing16-58").groove.params["amount"] == 63


def test_groove_load_delegates_to_presets():
    assert groove.load("swing16-58") == presets.load("swing16-58")
    assert groove.load("swing16-58").groove == groove.swing(58, "1/16")


def test_unknown_name_suggests_the_closest():
    with pytest.raises(PresetError, match=r"swing16-85: no preset.*did you mean 'swing16-75'"):
        presets.find("swing16-85")
    with pytest.raises(PresetError, match="no such preset file"):
        presets.find("no/such/dir/x.yaml")


def test_list_presets_shadows_and_reports_invalid(tmp_path, monkeypatch):
    env = tmp_path / "env"
    _write(env / "funk-16.yaml", SWING.format(a=60))
    _write(env / "broken.yaml", SWING.format(a=160))
    monkeypatch.setenv("GROOVE_PRESET_PATH", str(env))
    listed = {name: (path, result) for name, path, result in presets.list_presets()}
    assert set(SHIPPED_NAMES) | {"broken"} == set(listed)
    assert listed["funk-16"][0] == env / "funk-16.yaml"
    assert listed["funk-16"][1].kind == "swing"
    assert isinstance(listed["broken"][1], PresetError)
    assert str(listed["broken"][1]).startswith(f"{env / 'broken.yaml'}:2:9: amount:")


def test_blend_by_relative_path_and_inline(tmp_path):
    _write(tmp_path / "parts" / "a.yaml", SWING.format(a=60))
    blend = _write(
        tmp_path / "b.yaml",
        "kind: blend\nof:\n  - {groove: parts/a.yaml}\n"
        "  - groove: {kind: swing, amount: 70, grid: 1/16}\n    weight: 3\n",
    )
    p = presets.load(blend)
    expected = groove.blend([(groove.swing(60), 1), (groove.swing(70), 3)])
    assert p.groove == expected and p.kind == "blend" and p.name == "b"


def test_loads_and_amounts():
    p = presets.loads(
        "name: x\nkind: straight\ntiming: 0.5\nquantize: 0.25\n"
        "velocity_amount: -0.5\nrandom: {time_ms: 4, velocity: 3, seed: 9}\n"
    )
    assert p.groove.is_identity and p.kind == "straight" and p.path is None
    assert p.amounts == Amounts(0.5, 0.25, -0.5, 4, 3, 9)


def test_lanes_in_a_swing_preset():
    p = presets.loads(
        "kind: swing\namount: 54\ngrid: 1/8\nlanes: {hats: {notes: [42, 46], amount: 66}}\n"
    )
    assert p.groove_for(42) == groove.swing(66, "1/8") and p.groove_for(36) == p.groove


def test_blend_lane_missing_in_one_part_uses_its_main_curve():
    text = (
        "kind: blend\nof:\n  - groove: {kind: swing, amount: 60, grid: 1/16}\n"
        "  - groove:\n      kind: swing\n      amount: 70\n      grid: 1/16\n"
        "      lanes: {hats: {notes: [42], amount: 54}}\n"
    )
    p = presets.loads(text)
    assert [(lane.name, lane.notes) for lane in p.lanes] == [("hats", (42,))]
    assert p.lanes[0].groove == groove.blend([(groove.swing(60), 1), (groove.swing(54), 1)])
    assert p.groove == groove.blend([(groove.swing(60), 1), (groove.swing(70), 1)])


# -- writing ------------------------------------------------------------------------
@pytest.mark.parametrize("name", SHIPPED_NAMES)
def test_write_preset_round_trips_every_shipped_preset(tmp_path, name):
    original = presets.load(name)
    target = tmp_path / f"copy-{name}.yaml"
    returned = presets.write_preset(target, original, header_comment="written by a test")
    again = presets.load(target)
    for p in (returned, again):
        assert p.groove == original.groove and p.amounts == original.amounts
        assert [(lane.name, lane.notes, lane.groove) for lane in p.lanes] == [
            (lane.name, lane.notes, lane.groove) for lane in original.lanes
        ]
        assert p.name == f"copy-{name}"
    assert target.read_text().startswith("# written by a test\n")
    assert [p.name for p in tmp_path.iterdir()] == [target.name]  # no temp file left


def test_rewrite_keeps_comments_and_key_order(tmp_path):
    target = tmp_path / "funk-16.yaml"
    target.write_text((SHIPPED / "funk-16.yaml").read_text())
    doc = presets.read_document(target)
    doc["offsets"][3] = 0.2
    doc["velocity"] = np.linspace(1.0, 0.25, 16)
    presets.write_preset(target, doc, header_comment="edited")
    assert isinstance(doc["velocity"], np.ndarray)  # the caller's document is not changed
    text = target.read_text()
    assert text.startswith("# edited\n")
    assert "# side stick, snare: backbeat just late" in text
    keys = [line.split(":")[0] for line in text.splitlines() if line and line[0].isalpha()]
    assert keys == [
        "name",
        "description",
        "kind",
        "period",
        "grid",
        "interp",
        "offsets",
        "velocity",
        "velocity_amount",
        "lanes",
    ]
    loaded = presets.load(target)
    assert loaded.groove.params["offsets"][3] == 0.2
    assert loaded.groove.params["velocity"] == np.linspace(1.0, 0.25, 16).tolist()


def test_write_mapping_with_numpy_values(tmp_path):
    offsets = np.array([0.0, 0.1, -0.05, 0.12])
    p = presets.write_preset(
        tmp_path / "ex.yaml",
        {
            "name": "ex",
            "kind": "template",
            "period": 1,
            "grid": "1/16",
            "offsets": offsets,
            "velocity": np.array([1.0, 0.5, 0.75, 0.5]),
            "timing": np.float64(0.9),
        },
    )
    assert p.groove == groove.template(offsets, period=1, velocity=[1, 0.5, 0.75, 0.5])
    assert "offsets: [0.0, 0.1, -0.05, 0.12]" in (tmp_path / "ex.yaml").read_text()


def test_invalid_mapping_is_never_written(tmp_path):
    target = tmp_path / "bad.yaml"
    target.write_text("kept\n")
    with pytest.raises(PresetError, match=r"bad.yaml:\d+:\d+: amount: 120.0 is outside"):
        presets.write_preset(target, {"kind": "swing", "amount": 120, "grid": "1/16"})
    with pytest.raises(PresetError, match="differs from the file name"):
        presets.write_preset(target, {"name": "other", "kind": "straight"})
    assert target.read_text() == "kept\n"
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_write_refuses_scaled_grooves(tmp_path):
    scaled = Preset.from_groove(groove.swing(60).scaled(0.5), name="s")
    with pytest.raises(PresetError, match="scaled"):
        presets.write_preset(tmp_path / "s.yaml", scaled)
