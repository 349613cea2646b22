"""The shipped presets reach an installed wheel: build, install, list, elsewhere.

Builds a wheel from a copy of the sources (so no build/ or egg-info lands in
the work tree), installs it with ``--no-deps`` into a fresh virtual
environment created with ``--system-site-packages``, and runs ``groove
presets list`` from another directory.  The new venv's base interpreter
may not have numpy or ruamel.yaml, so a .pth line adds the test
interpreter's site-packages after the venv's own: its editable install of
groove is a .pth *hook*, which a plain path line does not run, so the
wheel's copy is what gets imported (the test checks where it came from).
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _run(cmd, cwd, env=None, timeout=300):
    res = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert res.returncode == 0, f"{cmd[:3]} failed:\n{res.stdout[-2000:]}\n{res.stderr[-2000:]}"
    return res.stdout


def _can_build_wheels() -> bool:
    # setuptools < 70.1 builds wheels only with the `wheel` package installed
    import importlib.metadata
    import importlib.util

    version = importlib.metadata.version("setuptools").split(".")
    return importlib.util.find_spec("wheel") is not None or (int(version[0]), int(version[1])) >= (
        70,
        1,
    )


@pytest.mark.slow
@pytest.mark.skipif(
    not _can_build_wheels(),
    reason="setuptools < 70.1 needs the wheel package to build wheels; pip install wheel",
)
def test_wheel_in_a_fresh_venv_lists_the_shipped_presets(tmp_path):
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", "*.pyc")
    for name in ("groove", "engine", "presets"):
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", src)
    readme = REPO / "README.md"
    (src / "README.md").write_text(readme.read_text() if readme.exists() else "groove\n")
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            tmp_path / "dist",
            src,
        ],
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("groove-*.whl")

    venv = tmp_path / "venv"
    _run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv],
        cwd=tmp_path,
    )
    py = venv / "bin" / "python"
    site = Path(
        _run(
            [py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp_path
        ).strip()
    )
    (site / "zz_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([py, "-m", "pip", "install", "--no-deps", "--no-index", "-q", wheel], cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("GROOVE_PRESET_PATH", "PYTHONPATH")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    where = _run(
        [
            py,
            "-c",
            "import engine, groove_presets; print(engine.__file__); print(groove_presets.__file__)",
        ],
        cwd=elsewhere,
        env=env,
    )
    assert all(line.startswith(str(site)) for line in where.splitlines()), where
    api = _run(
        [
            py,
            "-c",
            "from engine.presets import list_presets as ls; "
            "print(sorted(n for n, _, p in ls() if p.groove))",
        ],
        cwd=elsewhere,
        env=env,
    )
    shipped = {p.stem for p in (REPO / "presets").glob("*.yaml")}
    assert api.strip() == str(sorted(shipped))
    # the CLI imports every subcommand: this also catches a subpackage missing from the wheel
    listing = _run([venv / "bin" / "groove", "presets", "list", "--json"], cwd=elsewhere, env=env)
    rows = {r["name"]: r for r in json.loads(listing)}
    assert set(rows) == shipped
    assert all(r["error"] is None and r["origin"] == "shipped" for r in rows.values())
    assert rows["halfway"]["path"].startswith(str(site))
    schema = _run([venv / "bin" / "groove", "presets", "schema"], cwd=elsewhere, env=env)
    assert schema == (site / "groove_presets" / "schema.json").read_text()
