"""``list_headers``: what ``groove presets list`` shows, read without building grooves,
is what loading every preset would show."""

from __future__ import annotations

import pytest

from engine import presets
from engine.presets.header import PresetHeader, read_header


def _as_loaded():
    out = {}
    for name, _path, result in presets.list_presets():
        out[name] = result if isinstance(result, Exception) else PresetHeader.of(result)
    return out


def _listed():
    return {name: result for name, _path, result in presets.list_headers()}


def test_shipped_headers_match_full_loads(monkeypatch):
    monkeypatch.delenv("GROOVE_PRESET_PATH", raising=False)
    listed, loaded = _listed(), _as_loaded()
    assert listed == loaded and len(listed) >= 19
    for name, _path, _origin in presets.preset_files():
        assert read_header(presets.find(name)) is not None, name  # none needed a full load


USER = {
    "plain.yaml": "kind: swing\namount: 60\ngrid: 1/8\n",
    "tpl.yaml": "name: tpl\nkind: template\nperiod: 2\ngrid: 1/8t\noffsets: [0, .1, 0, 0, 0, 0]\n",
    "mix.yaml": "kind: blend\nof:\n  - {groove: plain, weight: 1}\n"
    "  - groove: {kind: template, period: 3, grid: 1/4, offsets: [0, 0.2, 0]}\n    weight: 3\n",
    "quoted.yaml": "kind: 'straight'\ndescription: \"x: y # not a comment\"\n",
    # problems: the listing must give the error a full load gives
    "nogrid.yaml": "kind: swing\namount: 58\n",
    "badname.yaml": "name: other\nkind: straight\n",
    "cycle.yaml": "kind: blend\nof: [{groove: cycle}]\n",
    "alias.yaml": "kind: &k swing\namount: 58\ngrid: *k\n",
    "syntax.yaml": "kind: swing\namount: [58\n",
    "wrongkind.yaml": "kind: swung\n",
    "missingpart.yaml": "kind: blend\nof: [{groove: nowhere}]\n",
}


@pytest.fixture
def user_presets(tmp_path, monkeypatch):
    for name, text in USER.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setenv("GROOVE_PRESET_PATH", str(tmp_path))
    return tmp_path


def test_user_headers_and_problems_match_full_loads(user_presets):
    listed, loaded = _listed(), _as_loaded()
    assert set(listed) == set(loaded)
    for name in listed:
        a, b = listed[name], loaded[name]
        if isinstance(b, Exception):
            assert isinstance(a, presets.PresetError) and str(a) == str(b), name
        else:
            assert a == b, name
    assert listed["mix"].period_beat == 3.0 and listed["mix"].grid == "1/4"
    assert listed["tpl"].grid == "1/8t" and listed["quoted"].description == "x: y # not a comment"


def test_odd_headers_fall_back_to_a_full_load(user_presets):
    for name in ("nogrid", "badname", "cycle", "alias", "syntax", "wrongkind", "missingpart"):
        assert read_header(user_presets / f"{name}.yaml") is None, name
    assert read_header(user_presets / "mix.yaml").kind == "blend"
