"""``groove`` is pure maths: importing it pulls in no numba, I/O, MIDI or audio.

numba is imported lazily on the first evaluation; YAML, MIDI and audio
libraries are never imported by anything under ``groove/``.
"""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

FORBIDDEN_ON_IMPORT = ("numba", "yaml", "ruamel", "mido", "sounddevice", "rtmidi", "jack")
FORBIDDEN_ANYWHERE = ("yaml", "ruamel", "mido", "sounddevice", "rtmidi", "jack")
PACKAGE_DIR = Path(__file__).resolve().parents[2] / "groove"


def test_import_groove_loads_no_heavy_or_io_module():
    code = (
        "import sys, json, groove; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE_DIR.parent,
    )
    loaded = set(json.loads(out.stdout))
    assert "groove" in loaded
    assert not loaded & set(FORBIDDEN_ON_IMPORT), sorted(loaded & set(FORBIDDEN_ON_IMPORT))


def _imported_modules(tree):
    """Top-level names of every module a source imports, statically."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                getattr(node.func, "id", None) == "__import__"
                or getattr(node.func, "attr", None) == "import_module"
            )
        ):
            yield node.args[0].value.split(".")[0], node.lineno


def test_the_package_has_python_sources():
    assert (PACKAGE_DIR / "__init__.py").is_file()
    assert len(list(PACKAGE_DIR.rglob("*.py"))) >= 5


@pytest.mark.parametrize(
    "path", sorted(PACKAGE_DIR.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE_DIR))
)
def test_no_source_under_groove_imports_io_libraries(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    bad = [(name, line) for name, line in _imported_modules(tree) if name in FORBIDDEN_ANYWHERE]
    assert not bad, f"{path.name} imports {bad}"
