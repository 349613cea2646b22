"""The wheel carries every package: pyproject's explicit list names each one of the tree."""

from pathlib import Path

import tomllib

REPO = Path(__file__).resolve().parents[1]


def test_every_package_in_the_tree_is_in_pyproject():
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in ("groove", "engine")
        for init in (REPO / top).rglob("__init__.py")
    }
    missing = sorted(found - listed)
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"
