"""``groove render`` on the command line: single files, batches, exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import cli
from engine.midi import midifile

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "midi"
MIXED = FIXTURES / "mixed.mid"


def run(*argv):
    return cli.main([str(a) for a in argv])


def test_single_file(tmp_path, capsys):
    out = tmp_path / "out.mid"
    assert run("render", MIXED, "-p", "swing16-58", "-o", out, "--quantize", "0.5") == 0
    assert f"wrote {out}" in capsys.readouterr().out
    assert len(midifile.read(out).tracks) == 3


def test_output_folder_for_one_file(tmp_path):
    assert run("render", MIXED, "-p", "swing16-58", "-o", tmp_path) == 0
    assert (tmp_path / "mixed.mid").is_file()


def test_zero_amounts_write_the_same_events(tmp_path):
    out = tmp_path / "same.mid"
    assert run("render", MIXED, "-p", "swing16-58", "-o", out, "--timing", "0") == 0
    a, b = midifile.read(MIXED), midifile.read(out)
    assert [list(t) for t in a.tracks] == [list(t) for t in b.tracks]


def test_overwriting_the_input_needs_in_place(tmp_path, capsys):
    f = tmp_path / "x.mid"
    shutil.copy(MIXED, f)
    before = f.read_bytes()
    assert run("render", f, "-p", "swing16-58", "-o", f) == 2
    assert "--in-place" in capsys.readouterr().err and f.read_bytes() == before
    assert run("render", f, "-p", "swing16-58", "--in-place") == 0
    assert f.read_bytes() != before


@pytest.mark.parametrize(
    "argv, words",
    [
        (["-p", "no-such-preset"], "no-such-preset"),
        (["-p", "swing16-58", "--timing", "3"], "timing"),
        (["-p", "swing16-58", "--channels", "0"], "--channels"),
        (["-p", "swing16-58", "--notes", "60-x"], "--notes"),
        (["-p", "swing16-58", "--tracks", "3-1"], "--tracks"),
        (["-p", "swing16-58", "-j", "0"], "-j"),
        (["-p", "swing16-58", "--resolution", "0"], "resolution"),
    ],
)
def test_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, argv, words):
    out = tmp_path / "o.mid"
    assert run("render", MIXED, "-o", out, *argv) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1 and not out.exists()


def test_missing_output_and_missing_input(tmp_path, capsys):
    assert run("render", MIXED, "-p", "swing16-58") == 2
    assert "-o OUTPUT is required" in capsys.readouterr().err
    assert run("render", tmp_path / "none.mid", "-p", "swing16-58", "-o", tmp_path / "o") == 2
    assert "no such file" in capsys.readouterr().err


def test_single_unreadable_input_exit_2(tmp_path, capsys):
    bad = FIXTURES / "broken" / "truncated-track.mid"
    out = tmp_path / "o.mid"
    assert run("render", bad, "-p", "swing16-58", "-o", out) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"groove render: {bad}: truncated: track 0 (byte 14) declares 32 bytes but only 9 remain"
    )
    assert not out.exists()


def _tree(tmp_path):
    src = tmp_path / "in"
    (src / "a" / "b").mkdir(parents=True)
    shutil.copy(MIXED, src / "one.mid")
    shutil.copy(FIXTURES / "format2.mid", src / "a" / "two.MIDI")
    shutil.copy(FIXTURES / "unknown-meta.mid", src / "a" / "b" / "three.mid")
    shutil.copy(FIXTURES / "broken" / "smpte.mid", src / "a" / "bad.mid")
    (src / "a" / "notes.txt").write_text("not midi")
    return src


@pytest.mark.parametrize("jobs", [1, 2])
def test_batch_mirrors_layout_and_skips_bad_files(tmp_path, capsys, jobs):
    src = _tree(tmp_path)
    out = tmp_path / "out"
    assert run("render", src, "-p", "swing16-58", "-o", out, "-j", jobs) == 1
    captured = capsys.readouterr()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "a/b/three.mid",
        "a/two.MIDI",
        "one.mid",
    ]
    assert f"{src / 'a' / 'bad.mid'}: SMPTE" in captured.err
    assert "rendered 3 of 4 files" in captured.out and "1 failed" in captured.out


def test_batch_from_glob_and_list(tmp_path, capsys):
    src = _tree(tmp_path)
    out = tmp_path / "g"
    assert run("render", f"{src}/**/t*.mid", "-p", "swing16-58", "-o", out) == 0
    assert (out / "a" / "b" / "three.mid").is_file()
    assert (
        run(
            "render",
            src / "one.mid",
            src / "a" / "b" / "three.mid",
            "-p",
            "swing8-66",
            "-o",
            tmp_path / "l",
        )
        == 0
    )
    assert {p.name for p in (tmp_path / "l").iterdir()} == {"one.mid", "three.mid"}
    capsys.readouterr()
    # two inputs with one name would overwrite each other
    (tmp_path / "other").mkdir()
    shutil.copy(MIXED, tmp_path / "other" / "one.mid")
    assert (
        run(
            "render",
            src / "one.mid",
            tmp_path / "other" / "one.mid",
            "-p",
            "straight",
            "-o",
            tmp_path / "l",
        )
        == 2
    )
    assert "would both be written" in capsys.readouterr().err


def test_batch_output_must_be_a_folder(tmp_path, capsys):
    src = _tree(tmp_path)
    f = tmp_path / "file.mid"
    f.write_bytes(b"")
    assert run("render", src, "-p", "straight", "-o", f) == 2
    assert "must be a folder" in capsys.readouterr().err
