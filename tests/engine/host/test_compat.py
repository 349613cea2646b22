"""Plugins written against groove 0.1's flat ``engine`` still load (with a warning)."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("name", ["processor", "events", "delay"])
def test_old_module_path_is_the_new_module(name):
    code = (
        "import warnings\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        f"    import engine.{name} as old\n"
        f"import engine.host.{name} as new\n"
        "assert old is new, (old, new)\n"
        "assert old.__dict__.get('Processor', old.__dict__.get('NOTE_ON', 1)) is not None\n"
        "assert any(issubclass(x.category, DeprecationWarning) for x in w), w\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
