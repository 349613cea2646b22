"""Bad presets: each fails with one positioned line, nothing half-loaded.

Fixtures are in tests/data/presets/; files that cannot live in the repo
(not UTF-8, over the size cap) are written to a temp dir.
"""

import re
from pathlib import Path

import pytest

from engine import presets
from engine.cli import main
from engine.presets import PresetError

DATA = Path(__file__).resolve().parents[2] / "data" / "presets"
LINE_RE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<msg>.+)$")


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("GROOVE_PRESET_PATH", raising=False)


# fixture, line, col, a fragment of the message
CASES = [
    ("malformed", 3, 5, "YAML syntax error: expected ',' or ']'"),
    ("top-list", 1, 1, "the top level is a list, not a mapping"),
    ("top-scalar", 1, 1, "the top level is the value 'just a string', not a mapping"),
    ("missing-kind", 1, 1, "missing key 'kind'"),
    ("missing-period", 1, 1, "missing key 'period'"),
    ("unknown-key", 4, 1, "swng: unknown key; allowed here: kind, amount, grid"),
    ("string-number", 2, 9, "amount: expected a number, got the text '58'; remove the quotes"),
    ("bool-number", 2, 9, "amount: expected a number, got the boolean true"),
    ("wrong-length", 4, 10, "offsets: expected 16 values (one per grid step), got 8"),
    ("fold-back", 4, 19, "offsets: step 1 (0.5) to step 2 (-0.6) makes the groove run backwards"),
    ("velocity-range", 5, 20, "velocity: step 2 is 1.5; allowed: finite, from 0 to 1"),
    ("amount-range", 2, 9, "amount: 100.0 is outside (0, 100)"),
    ("amount-zero", 2, 9, "amount: 0.0 is outside (0, 100)"),
    ("lane-overlap", 7, 23, "lanes.toms.notes[1]: note 40 is already in lane 'snare'"),
    ("lane-note-range", 6, 23, "lanes.snare.notes[1]: 128 is outside 0..127"),
    ("blend-zero", 3, 3, "of: all weights are 0"),
    (
        "blend-missing",
        4,
        14,
        "of[1].groove: swing16-85: no preset of that name; did you mean 'swing16-75'?",
    ),
    ("blend-self", 4, 14, "of[1].groove: blend cycle blend-self -> blend-self"),
    ("cycle-a", 3, 14, "blend cycle cycle-a -> cycle-b -> cycle-a"),
    ("billion-laughs", 2, 4, "YAML anchors and aliases (&a / *a) are not allowed"),
    ("deep", 2, 39, "nesting deeper than 32 levels"),
    ("timing-foldback", 6, 9, "timing: 1.3 folds the template back at beat"),
    ("name-mismatch", 1, 7, "name: 'something-else' differs from the file name"),
    ("duplicate-key", 3, 1, 'found duplicate key "amount"'),
]


@pytest.mark.parametrize("fixture,line,col,fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_preset_is_one_positioned_line(fixture, line, col, fragment):
    path = DATA / f"{fixture}.yaml"
    with pytest.raises(PresetError) as info:
        presets.load(path)
    message = str(info.value)
    assert "\n" not in message
    match = LINE_RE.match(message)
    assert match, message
    assert (match["file"], int(match["line"]), int(match["col"])) == (str(path), line, col)
    assert fragment in match["msg"]


def test_every_problem_of_a_file_is_listed():
    with pytest.raises(PresetError) as info:
        presets.load(DATA / "several-problems.yaml")
    lines = info.value.problems
    assert [LINE_RE.match(p).group("line", "col") for p in lines] == [
        ("4", "14"),
        ("5", "1"),
        ("6", "9"),
    ]
    assert "offsets[1]: expected a number, got the text '0.1'" in lines[0]
    assert "velocty: unknown key; did you mean 'velocity'?" in lines[1]
    assert "timing: expected a number, got the text 'yes'" in lines[2]


def test_key_of_another_kind_says_whose_it_is():
    with pytest.raises(
        PresetError,
        match=r"<string>:4:1: offsets: not used here \(it belongs "
        r"to kind 'template', this is kind 'swing'\)",
    ):
        presets.loads("kind: swing\namount: 58\ngrid: 1/16\noffsets: [0, 0.1]\n")
    with pytest.raises(PresetError, match="a blend takes its lanes from its parts"):
        presets.loads("kind: blend\nof: [{groove: swing16-58}]\nlanes: {}\n")


def test_core_errors_are_positioned_at_their_node():
    text = "kind: template\nperiod: 1\ngrid: 1/12\noffsets: [0, 0.1, 0, 0.1]\n"
    with pytest.raises(PresetError, match=r"^<string>:3:7: grid: unknown grid '1/12'"):
        presets.loads(text)
    lane = (
        "kind: template\nperiod: 1\ngrid: 1/16\noffsets: [0, 0.1, 0, 0.1]\n"
        "lanes:\n  hats: {notes: [42], offsets: [0, 0.1, 0, 0.1], velocity: [1, 2, 1, 1]}\n"
    )
    with pytest.raises(
        PresetError,
        match=r"^<string>:6:64: lanes.hats.velocity: step 1 is 2"
        r".*\(lane hats\)$",
    ):
        presets.loads(lane)
    offsets64 = ", ".join(["0"] * 64)
    lcm = (
        "kind: blend\nof:\n  - groove: {kind: template, period: 3, grid: 1/4, offsets: "
        f"[0, 0.1, 0]}}\n  - groove: {{kind: template, period: 64, grid: 1/4, offsets: "
        f"[{offsets64}]}}\n"
    )
    with pytest.raises(PresetError, match=r"^<string>:3:3: of: the blend's period would be 192"):
        presets.loads(lcm)
    with pytest.raises(
        PresetError,
        match=r"^<string>:3:7: grid: expected text, got 16; "
        "write a grid such as 1/16",
    ):
        presets.loads("kind: swing\namount: 60\ngrid: 16\n")
    amounts = "kind: straight\nvelocity_amount: 1.5\n"
    with pytest.raises(PresetError, match=r"^<string>:2:18: velocity_amount: 1.5 is outside"):
        presets.loads(amounts)


def test_inline_part_errors_carry_their_path():
    text = "kind: blend\nof:\n  - groove: {kind: swing, amount: 101, grid: 1/16}\n"
    with pytest.raises(
        PresetError,
        match=r"^<string>:3:35: of\[0\]\.groove\.amount: 101.0 is "
        "outside",
    ):
        presets.loads(text)
    text = "kind: blend\nof:\n  - groove: {kind: swing, amount: 60, grid: 1/16, timing: 1}\n"
    with pytest.raises(PresetError, match="timing: not used here .*set them on the blend"):
        presets.loads(text)


def test_invalid_part_file_is_reported_at_the_reference(tmp_path):
    (tmp_path / "bad.yaml").write_text("kind: swing\namount: 58\n")
    (tmp_path / "mix.yaml").write_text("kind: blend\nof:\n  - {groove: ./bad.yaml}\n")
    with pytest.raises(PresetError) as info:
        presets.load(tmp_path / "mix.yaml")
    assert str(info.value) == (
        f"{tmp_path / 'mix.yaml'}:3:14: of[0].groove: './bad.yaml' is not a valid preset: "
        f"{tmp_path / 'bad.yaml'}:1:1: preset: missing key 'grid' (needs kind, amount, grid)"
    )


def test_not_utf8_names_the_byte_offset(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"kind: swing\ndescription: caf" + b"\xe9\namount: 58\n")
    with pytest.raises(PresetError) as info:
        presets.load(path)
    assert str(info.value) == (
        f"{path}:2:17: the file is not UTF-8: byte 0xe9 at byte offset "
        "28 cannot be decoded; save the file as UTF-8"
    )


def test_huge_file_is_refused_before_parsing(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("kind: swing\ndescription: '" + "x" * (1 << 20) + "'\n")
    with pytest.raises(PresetError, match=r"huge.yaml:1:1: the file is larger than 1048576 bytes"):
        presets.load(path)


def test_alias_bomb_is_refused_before_expansion():
    # 9 levels of 9 aliases each would be 9**9 (387 million) strings if expanded:
    # reaching the error at all shows nothing was expanded
    with pytest.raises(PresetError, match=r"billion-laughs.yaml:2:4: YAML anchors"):
        presets.load(DATA / "billion-laughs.yaml")


def test_deep_flow_nesting_in_a_big_file_is_refused(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("kind: swing\namount: " + "[" * 500_000 + "\n")
    with pytest.raises(PresetError, match=r"deep.yaml:2:40: nesting deeper than 32 levels"):
        presets.load(path)


def test_foreign_tags_and_multiple_documents_are_refused():
    with pytest.raises(
        PresetError,
        match=r"^<string>:1:7: the YAML tag "
        r"tag:yaml.org,2002:python/object:os.system",
    ):
        presets.loads("kind: !!python/object:os.system swing\n")
    with pytest.raises(PresetError, match=r"^<string>:2:1: a second YAML document"):
        presets.loads("kind: straight\n---\nkind: straight\n")


def test_empty_and_control_characters():
    with pytest.raises(PresetError, match=r"^<string>:1:1: the file is empty"):
        presets.loads("# only a comment\n")
    with pytest.raises(PresetError, match=r"^<string>:2:14: character U\+0007 is not allowed"):
        presets.loads("kind: swing\ndescription: \x07\n")


def test_validate_cli_keeps_going_and_exits_1(capsys):
    files = [
        str(DATA / "good.yaml"),
        str(DATA / "string-number.yaml"),
        str(DATA / "missing.yaml"),
        str(DATA / "several-problems.yaml"),
    ]
    assert main(["presets", "validate", *files]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 5
    assert all(LINE_RE.match(line) for line in lines)
    assert lines[0].startswith(f"{files[1]}:2:9: amount: expected a number")
    assert lines[1] == f"{files[2]}:1:1: no such file"
    assert all(line.startswith(files[3]) for line in lines[2:])
    assert "1 of 4 preset files valid, 5 problems" in err


@pytest.mark.parametrize("fixture", [c[0] for c in CASES])
def test_validate_cli_reports_each_fixture(fixture, capsys):
    assert main(["presets", "validate", str(DATA / f"{fixture}.yaml")]) == 1
    out, _ = capsys.readouterr()
    assert out.startswith(f"{DATA / fixture}.yaml:") and "Traceback" not in out


def test_validate_cli_accepts_good_files(capsys):
    shipped = sorted(str(p) for p in (DATA.parents[2] / "presets").glob("*.yaml"))
    assert main(["presets", "validate", str(DATA / "good.yaml"), *shipped]) == 0
    out, err = capsys.readouterr()
    assert out == "" and f"{len(shipped) + 1} of {len(shipped) + 1} preset files valid" in err
