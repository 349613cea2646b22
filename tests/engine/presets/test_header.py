"""``list_headers``: what ``groove presets list`` shows, parsed cheaply, is what loading
every preset would show, broken ones (``invalid - <reason>``) included."""

from __future__ import annotations

import pytest

from engine import presets
from engine.presets.header import PresetHeader, _Odd, parse_plain, read_header
from engine.presets.yaml_io import parse, read_text


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
#: Good headers over broken bodies (review of issue 14: these were listed as valid).
BROKEN_BODIES = {
    "amount.yaml": "kind: swing\ngrid: 1/16\namount: 500\n",
    "noamount.yaml": "kind: swing\ngrid: 1/16\n",
    "dup.yaml": "kind: swing\ngrid: 1/16\namount: 54\nkind: swing\n",
    "unknown.yaml": "kind: swing\ngrid: 1/16\namount: 54\ncolour: red\n",
    "yamlsyntax.yaml": "kind: swing\ngrid: 1/16\namount: 54\nfoo: [1, 2\n",
    "tab.yaml": "kind: swing\ngrid: 1/16\n\tamount: 54\n",
    "offsets.yaml": "kind: template\ngrid: 1/4\nperiod: 1\noffsets: [0, 3, 0, 0]\n",
    "lane.yaml": "kind: swing\ngrid: 1/16\namount: 54\nlanes:\n  hats: {notes: [42], amount: 0}\n",
    "timing.yaml": "kind: swing\ngrid: 1/16\namount: 75\ntiming: 40\n",
    "brokenpart.yaml": "kind: blend\nof: [{groove: amount}, {groove: swing16-58}]\n",
}
#: YAML that two parsers might read apart (the listing may use libyaml's): whatever
#: ``load`` says of each, the listing must say too.
YAML_CORNERS = {
    "date.yaml": "kind: straight\ndescription: 2024-01-02\n",
    "directive.yaml": "%YAML 1.2\n---\nkind: straight\n",
    "directive11.yaml": "%YAML 1.1\n---\nkind: straight\ndescription: yes\n",
    "docend.yaml": "kind: straight\n...\n",
    "twodocs.yaml": "kind: straight\n---\nkind: straight\n",
    "trailingtab.yaml": "kind: straight\t\ndescription: a\t# c\n",
    "folded.yaml": "kind: straight\ndescription: >\n  a\n  b\n",
    "multiline.yaml": "kind: straight\ndescription: a\n  b\n",
    "escapes.yaml": 'kind: straight\ndescription: "\\u00e9\\x41 \\N"\n',
    "octal.yaml": "kind: template\ngrid: 1/4\nperiod: 0o4\noffsets: [0, 0, 0, 0]\n",
    "bool.yaml": "kind: swing\ngrid: 1/16\namount: on\n",
    "null.yaml": "kind: straight\ndescription: ~\n",
    "tagged.yaml": "kind: !!str straight\n",
    "flowmap.yaml": "{kind: swing, grid: 1/8, amount: 60}\n",
    "colon.yaml": "kind: straight\ndescription: a:b\n",
    "deep.yaml": "kind: straight\nx: " + "[" * 40 + "]" * 40 + "\n",
}
USER.update(YAML_CORNERS)
USER.update(BROKEN_BODIES)


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


def test_broken_bodies_are_listed_invalid_as_a_full_load_says(user_presets):
    listed, loaded = _listed(), _as_loaded()
    for file in BROKEN_BODIES:
        name = file.removesuffix(".yaml")
        assert isinstance(loaded[name], presets.PresetError), name
        assert isinstance(listed[name], presets.PresetError), name
        assert str(listed[name]) == str(loaded[name]), name
        assert read_header(user_presets / file) is None, name


def _tree(node):
    v = node.value
    if isinstance(v, dict):
        return {k: _tree(x) for k, x in v.items()}, node.key_pos, node.line, node.col
    if isinstance(v, list):
        return [_tree(x) for x in v], node.line, node.col
    return type(v).__name__, v, node.line, node.col


@pytest.mark.parametrize("pure", [False, True], ids=["libyaml", "pure"])
def test_cheap_parse_gives_the_tree_load_parses(pure, monkeypatch):
    monkeypatch.delenv("GROOVE_PRESET_PATH", raising=False)
    texts = dict(USER)
    texts.update({p.name: read_text(p) for _n, p, _o in presets.preset_files()})
    accepted = 0
    for name, text in texts.items():
        try:
            fast = parse_plain(text, pure=pure)
        except _Odd:
            continue
        assert _tree(fast) == _tree(parse(text, name)), name
        accepted += 1
    assert accepted >= 25
