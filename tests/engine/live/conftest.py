"""Fixtures for the live tests: a reachable JACK server, or a skip with the reason.

``jack_server`` uses the server named by JACK_DEFAULT_SERVER (scripts/jackd-
start.sh prints the exports); when none is reachable and jackd is installed it
starts a private dummy-driver server for the session and stops it afterwards
(set GROOVE_TEST_START_JACKD=0 to forbid that).  With no server at all the
live tests skip with the reason, except under CI=true, where they fail: CI
must run them.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def _probe():
    """None when a JACK server answers, else why not."""
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    try:
        import jack
    except (ImportError, OSError) as exc:
        return f"JACK-Client is not importable ({exc})"
    jack.set_error_function(lambda msg: None)  # libjack's own complaints: we report one line
    try:
        client = jack.Client(
            "groove-probe", no_start_server=True, servername=os.environ.get("JACK_DEFAULT_SERVER")
        )
    except jack.JackError as exc:
        return f"no JACK server {os.environ.get('JACK_DEFAULT_SERVER') or '(default)'}: {exc}"
    finally:
        jack.set_error_function(None)
    client.close()
    return None


def _start_private(name, **env):
    """Run scripts/jackd-start.sh; returns its exports as a dict (or raises)."""
    res = subprocess.run(
        ["sh", str(REPO / "scripts" / "jackd-start.sh")],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "JACKD_NAME": name, **env},
    )
    if res.returncode != 0:
        raise RuntimeError(res.stderr.strip().splitlines()[-1] if res.stderr else "failed")
    exports = {}
    for line in res.stdout.splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[len("export ") :].split("=", 1)
            exports[k] = v
    return exports


def _stop_private(exports):
    subprocess.run(
        ["sh", str(REPO / "scripts" / "jackd-stop.sh"), exports["GROOVE_JACKD_PID"]],
        timeout=30,
        check=False,
    )


def _unavailable(reason):
    msg = f"live test needs a JACK server: {reason} (scripts/jackd-start.sh starts one)"
    if os.environ.get("CI") == "true":
        pytest.fail(msg + "; CI=true, so this is a failure, not a skip")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def jack_server():
    """The name of a reachable JACK server (exported in JACK_DEFAULT_SERVER)."""
    reason = _probe()
    started = None
    if reason and shutil.which("jackd") and os.environ.get("GROOVE_TEST_START_JACKD", "1") == "1":
        try:
            started = _start_private(f"groove-pytest-{os.getpid()}")
            os.environ.update({k: v for k, v in started.items() if k.startswith("JACK")})
            reason = _probe()
        except (RuntimeError, subprocess.SubprocessError) as exc:
            reason = f"{reason}; starting a private jackd failed: {exc}"
    if reason:
        _unavailable(reason)
    yield os.environ.get("JACK_DEFAULT_SERVER", "default")
    if started:
        _stop_private(started)


@pytest.fixture(scope="session")
def portaudio_on_jack(jack_server):
    """PortAudio's JACK host API, for the portaudio backend's clock (else skip/fail)."""
    # Asked in a child process: PortAudio initialised here would still be attached
    # to the server when it stops, and its JACK host API aborts on that at exit.
    code = "import sounddevice as sd; print('|'.join(a['name'] for a in sd.query_hostapis()))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    if res.returncode != 0:
        _unavailable(f"sounddevice is not usable ({res.stderr.strip().splitlines()[-1:]})")
    apis = res.stdout.strip().split("|")
    if not any("JACK" in a for a in apis):
        _unavailable(f"this libportaudio has no JACK host API (it has {', '.join(apis)})")
    return jack_server
