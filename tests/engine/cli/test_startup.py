"""Commands import what they use: no numba (nor LLVM) for commands that do not transform
music, nor for a render of a small file (the plain-Python small path of groove._numba).

Each command runs in a fresh ``python -c`` process, as ``groove`` would, and
prints the modules it ended up with.  Timings live in bench/bench_startup.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
LOOP = REPO / "examples" / "drum-loop.mid"
COMPILER = ("numba", "llvmlite")

CHILD = """
import contextlib, io, json, sys
from engine.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        code = main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
top = sorted({m.split(".")[0] for m in sys.modules})
print(json.dumps({"code": code, "modules": top, "out": out.getvalue()[:200]}))
"""


def run_command(args, tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["presets", "list"],
        ["presets", "list", "--json"],
        ["presets", "show", "funk-16"],
        ["presets", "show", "halfway"],
        ["presets", "validate", str(REPO / "presets" / "funk-16.yaml")],
        ["presets", "schema"],
        ["info", str(LOOP)],
        ["info", "--json", str(LOOP)],
    ],
    ids=" ".join,
)
def test_non_transforming_commands_import_no_compiler(args, tmp_path):
    result = run_command(args, tmp_path)
    assert result["code"] in (0, None), result
    assert not set(COMPILER) & set(result["modules"]), f"{args} imported the compiler"
    assert result["out"] or args[1] == "validate"  # validate reports on stderr


def test_ports_imports_no_compiler(tmp_path):
    # ports talks to JACK/ALSA, which may be absent: only the imports count here
    result = run_command(["ports"], tmp_path)
    assert not set(COMPILER) & set(result["modules"])


def test_help_imports_no_backend_yaml_or_midi_library(tmp_path):
    result = run_command(["--help"], tmp_path)
    assert not {"ruamel", "mido", "jack", "sounddevice", "rtmidi", "concurrent"} & set(
        result["modules"]
    ), result["modules"]


def test_presets_schema_reads_no_yaml(tmp_path):
    result = run_command(["presets", "schema"], tmp_path)
    assert "ruamel" not in result["modules"]
    assert result["out"].lstrip().startswith("{")


def test_small_render_runs_without_the_compiler_and_matches_it(tmp_path):
    out = tmp_path / "plain.mid"
    result = run_command(["render", str(LOOP), "-p", "funk-16", "-o", str(out)], tmp_path)
    assert result["code"] == 0 and not set(COMPILER) & set(result["modules"])
    compiled = tmp_path / "compiled.mid"
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "render", str(LOOP), "-p", "funk-16"]
        + ["-o", str(compiled)],
        cwd=tmp_path,
        env={**os.environ, "GROOVE_JIT": "always"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == compiled.read_bytes()


def test_import_and_export_import_no_compiler(tmp_path):
    agr, back = tmp_path / "funk.agr", tmp_path / "funk-back.yaml"
    exported = run_command(["export", "funk-16", "--to", "agr", "-o", str(agr)], tmp_path)
    assert exported["code"] in (0, None) and agr.stat().st_size > 0, exported
    imported = run_command(["import", str(agr), "-o", str(back)], tmp_path)
    assert imported["code"] in (0, None) and "kind: template" in back.read_text(), imported
    for result in (exported, imported):
        assert not set(COMPILER) & set(result["modules"]), result["modules"]
