"""``groove import`` and ``groove export`` on the command line, and DAW files as ``-p``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import groove
from engine import cli
from engine.midi import midifile
from engine.presets import load
from tests.engine.presets.daw_files import (
    swing_points,
    write_agr,
    write_rgt,
    write_tracktion,
)

ROOT = Path(__file__).resolve().parents[3]
MIXED = ROOT / "tests" / "data" / "midi" / "mixed.mid"


def run(*argv):
    return cli.main([str(a) for a in argv])


@pytest.fixture
def daw_files(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    agr = write_agr(src / "Swing 57.agr", [(t, 100) for t in swing_points(57, 0.25, 4)])
    rgt = write_rgt(src / "late.rgt", 1, 4, [(p, 0.9) for p in swing_points(62, 0.5, 4)])
    xml = write_tracktion(
        src / "tt.xml",
        [("Basic 8th Swing", 2, 2, 1, ["0.0", "0.66"]), ("Push", 4, 4, 0, ["0", "-0.2"])],
    )
    return agr, rgt, xml


def test_import_one_file(tmp_path, daw_files, capsys):
    out = tmp_path / "s57.yaml"
    assert run("import", daw_files[0], "-o", out) == 0
    text = out.read_text()
    assert text.startswith(f"# Imported from {daw_files[0]}") and "Ableton Live groove" in text
    assert load(out).groove == groove.swing(57) and load(out).name == "s57"
    assert f"{out}: 1/16, period 0.5 beats, 2 steps" in capsys.readouterr().out


def test_import_a_batch_into_a_folder(tmp_path, daw_files):
    dest = tmp_path / "presets"
    dest.mkdir()
    assert run("import", *daw_files, "-o", dest) == 0
    names = sorted(p.name for p in dest.iterdir())
    assert names == ["Basic-8th-Swing.yaml", "Push.yaml", "Swing-57.yaml", "late.yaml"]
    assert load(dest / "late.yaml").groove == groove.swing(62, "1/8")


def test_batch_reports_every_bad_file_and_converts_the_good(tmp_path, daw_files, capsys):
    bad1 = tmp_path / "plot.agr"
    bad1.write_text("<plot/>")
    bad2 = tmp_path / "short.rgt"
    bad2.write_text("Version: 0\nNumber of beats in groove: 4\nGroove: 5 positions\n0\n")
    dest = tmp_path / "out"
    dest.mkdir()
    argv = ["import", bad1, daw_files[0], bad2, tmp_path / "missing.agr", daw_files[1]]
    assert run(*argv, "-o", dest) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3
    assert err[0].startswith(f"groove import: {bad1}: not an Ableton groove")
    assert err[1].startswith(f"groove import: {bad2}: the header says 5")
    assert "missing.agr: no such file" in err[2]
    assert sorted(p.name for p in dest.iterdir()) == ["Swing-57.yaml", "late.yaml"]


def test_a_bad_single_file_writes_nothing(tmp_path, capsys):
    bad = tmp_path / "x.rgt"
    bad.write_text("Version: 1\nNumber of beats in groove: 4\nGroove: 1 positions\n0 nan\n")
    assert run("import", bad, "-o", tmp_path / "x.yaml") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "finite" in err
    assert not (tmp_path / "x.yaml").exists()


def test_one_output_file_takes_one_groove(tmp_path, daw_files, capsys):
    assert run("import", daw_files[2], "-o", tmp_path / "one.yaml") == 2
    assert "takes one groove but 2" in capsys.readouterr().err
    assert not (tmp_path / "one.yaml").exists()


def test_name_and_grid_options(tmp_path, daw_files):
    assert run("import", daw_files[0], "-o", tmp_path, "--name", "mine", "--grid", "1/32") == 0
    preset = load(tmp_path / "mine.yaml")
    assert preset.groove.grid == "1/32"
    assert run("import", daw_files[0], "-o", tmp_path / "a.yaml", "--name", "b") == 2
    assert run("import", daw_files[0], "--grid", "1/7", "-o", tmp_path) == 2
    assert run("import", daw_files[0], "--name", "my groove", "-o", tmp_path) == 2
    assert not (tmp_path / "my groove.yaml").exists()


def test_an_existing_preset_is_replaced_and_said_so(tmp_path, daw_files, capsys):
    assert run("import", daw_files[1], "-o", tmp_path) == 0
    assert "replaced" not in capsys.readouterr().out
    assert run("import", daw_files[1], "-o", tmp_path) == 0
    assert f"{tmp_path / 'late.yaml'}: replaced:" in capsys.readouterr().out


def test_write_errors_name_the_target_not_the_temporary_file(tmp_path, daw_files, capsys):
    (tmp_path / "late.yaml").mkdir()  # in the way: the rename onto it fails
    assert run("import", daw_files[1], "-o", tmp_path) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'late.yaml'}: cannot write" in err and ".tmp" not in err
    (tmp_path / "s.rgt").mkdir()
    assert run("export", "swing16-58", "--to", "rgt", "-o", tmp_path / "s.rgt") == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 's.rgt'}: cannot write" in err and ".tmp" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["late.yaml", "s.rgt", "src"]


def test_tracktion_name_unusable_as_a_preset_name(tmp_path, capsys):
    src = write_tracktion(tmp_path / "my grooves.xml", [("!!!", 2, 2, 1, ["0", "0.3"])])
    assert run("import", src, "-o", tmp_path) == 0
    assert (tmp_path / "my-grooves.yaml").is_file()


def test_a_preset_that_cannot_be_made_names_the_source_first(tmp_path, daw_files, capsys):
    assert run("import", daw_files[1], "-o", tmp_path / "my late.yaml") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"groove import: {daw_files[1]}: ") and "not a preset name" in err
    assert not (tmp_path / "my late.yaml").exists()


def test_approximate_writes_what_the_format_only_nearly_holds(tmp_path, capsys):
    p = tmp_path / "sw80.yaml"
    p.write_text("kind: swing\namount: 80\ngrid: 1/16\n")
    assert run("export", p, "--to", "rgt", "-o", tmp_path / "a.rgt") == 2
    err = capsys.readouterr().err
    assert "--approximate" in err and not (tmp_path / "a.rgt").exists()
    assert run("export", p, "--to", "rgt", "-o", tmp_path / "a.rgt", "--approximate") == 0
    assert "largest error 0.1 beats" in capsys.readouterr().out


def test_two_grooves_with_one_name_do_not_overwrite(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write_rgt(tmp_path / "a" / "g.rgt", 0, 4, [0, 1])
    b = write_rgt(tmp_path / "b" / "g.rgt", 0, 4, [0, 1.1])
    assert run("import", a, b, "-o", tmp_path) == 2
    assert "would overwrite" in capsys.readouterr().err
    assert load(tmp_path / "g.yaml").groove.is_identity  # the first one, untouched


@pytest.mark.parametrize("to, suffix", [("agr", ".agr"), ("rgt", ".rgt"), ("tracktion", ".xml")])
def test_export_and_import_back(tmp_path, to, suffix, capsys):
    out = tmp_path / f"s{suffix}"
    assert run("export", "swing16-58", "--to", to, "-o", out) == 0
    said = capsys.readouterr().out
    assert said.startswith(f"{out}: {to}, grid 1/16") and said.rstrip().endswith("exact")
    assert run("import", out, "-o", tmp_path / "back.yaml") == 0
    assert load(tmp_path / "back.yaml").groove == groove.swing(58)


def test_export_warns_about_lanes_and_refuses_what_the_format_cannot_hold(tmp_path, capsys):
    assert run("export", "funk-16", "--to", "rgt", "-o", tmp_path / "f.rgt") == 0
    assert "folded into the main curve" in capsys.readouterr().err
    p = tmp_path / "big.yaml"
    p.write_text("kind: template\nperiod: 4\ngrid: 1/4\noffsets: [0, 0.9, 0, 0]\n")
    assert run("export", p, "--to", "agr", "-o", tmp_path / "big.agr") == 2
    err = capsys.readouterr().err
    assert "more than half" in err and not (tmp_path / "big.agr").exists()
    assert run("export", "no-such-groove", "--to", "agr", "-o", tmp_path / "n.agr") == 2


def test_daw_file_as_render_preset(tmp_path, daw_files):
    yaml = tmp_path / "s57.yaml"
    yaml.write_text("kind: swing\namount: 57\ngrid: 1/16\n")
    for source in (daw_files[0], yaml):
        out = tmp_path / f"{source.suffix[1:]}.mid"
        assert run("render", MIXED, "-p", source, "-o", out, "--quantize", "0.5") == 0
    a, b = midifile.read(tmp_path / "agr.mid"), midifile.read(tmp_path / "yaml.mid")
    assert [list(t) for t in a.tracks] == [list(t) for t in b.tracks]
    assert [list(t) for t in a.tracks] != [list(t) for t in midifile.read(MIXED).tracks]


def test_convert_between_daws(tmp_path, daw_files):
    out = tmp_path / "from-agr.xml"
    assert run("export", daw_files[0], "--to", "tracktion", "-o", out) == 0
    assert load(out).groove == groove.swing(57)


def test_import_does_not_load_numba(tmp_path, daw_files):
    code = (
        "import sys\nfrom engine import cli\n"
        f"rc = cli.main(['import', {str(daw_files[0])!r}, {str(daw_files[1])!r}, "
        f"{str(daw_files[2])!r}, '-o', {str(tmp_path)!r}])\n"
        "print(rc, 'numba' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip().splitlines()[-1] == "0 False"
    assert (tmp_path / "Push.yaml").is_file()
