"""``bench_live.py --mode callback``: callback time and missed cycles (see bench_live.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.engine.live.jack_harness import START, JackHarness  # noqa: E402

SR = 48000
BPM = 120.0
CONDITIONS = ("idle", "busy_thread", "two_procs")
PRESET = "swing16-62"


def start_server(period):
    """A private jackd (dummy driver) in asynchronous mode, the default for users.

    Not scripts/jackd-start.sh: that runs ``-S`` (synchronous) for the exact-frame
    tests, where a late client stretches the cycle and jackd names nobody; in
    asynchronous mode a client still running at the next cycle is logged as
    ``client = NAME was not finished``, which is what we count.
    """
    name = f"groove-cb-{os.getpid()}-{period}"
    log = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"jackd-{name}.log")
    cmd = ["jackd", "-t", "5000", "-n", name, "-d", "dummy", "-r", str(SR), "-p", str(period)]
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    env = {**os.environ, "JACK_DEFAULT_SERVER": name, "JACK_NO_START_SERVER": "1"}
    for _ in range(100):
        if subprocess.run(["jack_lsp"], env=env, capture_output=True).returncode == 0:
            return dict(JACK_DEFAULT_SERVER=name, proc=proc, log=log)
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"jackd {name} did not start; see {log}")


def stop_server(exports):
    proc = exports["proc"]
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def driver_xruns(log, since):
    """All of the cycle overruns jackd logged (any client, or the driver waking late)."""
    with open(log, errors="replace") as f:
        f.seek(since)
        text = f.read()
    return len(re.findall(r"XRun", text))


def traffic_child(server, name, seconds):
    """Child process: 1,000 notes/s into ``name``; prints sent/received counts as JSON."""
    os.environ["JACK_DEFAULT_SERVER"] = server
    seconds = float(seconds)
    h = JackHarness(f"tr-{name}")
    h.connect(f"{name}:midi_in", f"{name}:midi_out")
    n = int(seconds * 1000)
    rng = np.random.default_rng(1)
    starts = 1000 + np.arange(n) * 48 + rng.integers(0, 48, n)
    notes = []
    for k, f in enumerate(starts):
        key = 20 + k % 80
        notes.append((int(f), bytes((0x90, key, 1 + k % 127))))
        notes.append((int(f) + 2000, bytes((0x80, key, 0))))
    notes.sort(key=lambda e: e[0])
    h.play([(1000, bytes((START,)))] + notes, lead_sec=0.5)
    h.wait_sent(seconds * 4 + 30)
    h.wait_frames(int(0.5 * SR))
    got = [b for _, b in h.received if b[0] & 0xE0 == 0x80]
    print(json.dumps(dict(sent=len(notes), received=len(got), late_sends=h.late_sends)))
    h.close()


def harness_traffic(server, name, seconds):
    """1,000 notes/s from a child process (its Python callbacks stay out of ours)."""
    child = subprocess.run(
        [sys.executable, str(REPO / "bench" / "bench_live.py"), "--traffic", server, name]
        + [str(seconds)],
        capture_output=True,
        text=True,
        timeout=seconds * 6 + 60,
    )
    if child.returncode != 0:
        return {"error": child.stderr.strip().splitlines()[-1:]}
    return json.loads(child.stdout.strip().splitlines()[-1])


def latency_tester(server, name, seconds):
    """jackd2's jack_midi_latency_test -m 3 through groove, run after run for ``seconds``."""
    env = {**os.environ, "JACK_DEFAULT_SERVER": server}
    got = dict(runs=0, sent=0, received=0, peak_jitter_frames=0, failures=0)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        res = subprocess.run(
            ["jack_midi_latency_test", "-m", "3", "-s", "500", f"{name}:midi_in"]
            + [f"{name}:midi_out"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        got["runs"] += 1
        got["failures"] += res.returncode != 0
        for key, pat in (("sent", r"Messages sent: (\d+)"), ("received", r"received: (\d+)")):
            m = re.search(pat, res.stdout)
            got[key] += int(m.group(1)) if m else 0
        m = re.search(r"Peak MIDI jitter: [\d.]+ ms \((\d+) frames", res.stdout)
        if m:
            got["peak_jitter_frames"] = max(got["peak_jitter_frames"], int(m.group(1)))
    return got


def _spin(stop):
    x = 0
    while not stop.is_set():
        x += 1


class Rewriter:
    """The preset file rewritten every 0.3 s (atomically), as the issue's editor."""

    def __init__(self, path, interval_sec=0.3):
        self.path, self.text, self.count = path, path.read_text(), 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.wait(0.3):
            self.count += 1
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(self.text + f"# rewrite {self.count}\n")
            os.replace(tmp, self.path)

    def stop(self):
        self._stop.set()
        self._thread.join()


def callback_times(backend):
    """Callback durations (s) from the backend's ring, the first 10 % skipped."""
    if hasattr(backend, "callback_times_sec"):
        took, _ = backend.callback_times_sec()
    else:
        n = min(backend.callbacks, backend.callback_sec.shape[0])
        took = backend.callback_sec[:n].copy()
    return took[min(len(took) // 10, 100) :]


def not_finished(log, client, since):
    """jackd's ``client = NAME was not finished, state = S`` lines for our client, by S.

    ``Running``: our callback was still running at the next cycle (too slow, or
    preempted while running).  ``Triggered``: it had not started yet: woken
    late by the OS, or an upstream client (the traffic source) finished late.
    """
    with open(log, errors="replace") as f:
        f.seek(since)
        text = f.read()
    states = re.findall(rf"client = {re.escape(client)} was not finished, state = (\w+)", text)
    return {s: states.count(s) for s in sorted(set(states))}


def run_one(server, log, period, path, condition, seconds, preset_arg, reload=False, tester=False):
    from engine.live.session import LiveConfig, Session

    os.environ["JACK_DEFAULT_SERVER"] = server
    os.environ["GROOVE_LIVE_PATH"] = path
    name = f"gcb{period}{path[0]}{condition[0]}{'r' if reload else ''}{'t' if tester else ''}"
    out = open(os.devnull, "w")
    session = Session(
        LiveConfig(preset=str(preset_arg), name=name, bpm=BPM, status=False, reload=reload),
        out=out,
    )
    thread = threading.Thread(target=session.run, daemon=True)
    thread.start()
    while session.ready_sec is None and thread.is_alive():
        time.sleep(0.01)
    stop, extra = threading.Event(), []
    if condition == "busy_thread":
        extra.append(threading.Thread(target=_spin, args=(stop,), daemon=True))
        extra[-1].start()
    procs = []
    if condition == "two_procs":
        for _ in range(2):
            procs.append(subprocess.Popen([sys.executable, "-c", "while True: pass"]))
    rewriter = Rewriter(Path(preset_arg)) if reload else None
    since = os.path.getsize(log)
    wall0 = time.monotonic()
    if tester:
        traffic = latency_tester(server, name, seconds)
    else:
        traffic = harness_traffic(server, name, seconds)
    wall = time.monotonic() - wall0
    if rewriter is not None:
        rewriter.stop()
    stop.set()
    for p in procs:
        p.kill()
        p.wait()
    backend = session.backend
    took = callback_times(backend) * 1000.0
    xruns = backend.xruns
    session.stop()
    thread.join(10)
    missed = not_finished(log, name, since)
    n_missed = sum(missed.values())
    all_xruns = driver_xruns(log, since)
    period_ms = period / SR * 1000.0
    p50, p99 = np.percentile(took, [50, 99])
    return dict(
        period_frames=period,
        period_ms=round(period_ms, 3),
        path=path,
        condition=condition,
        reload_every_sec=0.3 if reload else None,
        reloads=rewriter.count if rewriter else None,
        traffic_kind="jack_midi_latency_test" if tester else "harness 1,000 notes/s",
        callbacks=int(took.shape[0]),
        callback_ms=dict(
            p50=round(float(p50), 4), p99=round(float(p99), 4), max=round(float(took.max()), 4)
        ),
        callback_p99_pct_of_period=round(100 * float(p99) / period_ms, 2),
        callback_max_pct_of_period=round(100 * float(took.max()) / period_ms, 1),
        not_finished_per_min=round(n_missed / (wall / 60), 2),
        not_finished_running_per_min=round(missed.get("Running", 0) / (wall / 60), 2),
        not_finished_by_state=missed,
        jackd_xrun_lines_per_min=round(all_xruns / (wall / 60), 2),
        xruns_seen_by_client=xruns,
        wall_sec=round(wall, 1),
        traffic=traffic,
    )


def run_callback_bench(blocks, seconds, paths, reload_sec, conditions=CONDITIONS):
    import tempfile

    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    preset = tmp / f"{PRESET}.yaml"
    preset.write_text((REPO / "presets" / f"{PRESET}.yaml").read_text())
    for period in blocks:
        exports = start_server(period)
        server = exports["JACK_DEFAULT_SERVER"]
        try:
            for path in paths:
                for condition in conditions:
                    rows.append(
                        run_one(server, exports["log"], period, path, condition, seconds, PRESET)
                    )
            if reload_sec and period == 64:
                # The scenario, with the same traffic without reloads beside it.
                for path in paths:
                    for reload in (False, True):
                        rows.append(
                            run_one(
                                server,
                                exports["log"],
                                period,
                                path,
                                "idle",
                                reload_sec,
                                preset,
                                reload=reload,
                                tester=True,
                            )
                        )
        finally:
            stop_server(exports)
    return dict(
        bench="live-callback",
        machine=dict(cores=os.cpu_count(), jack="jackd2 1.9.21 dummy driver, asynchronous, 48 kHz"),
        preset=PRESET,
        notes_per_sec=1000,
        music_sec=seconds,
        runs=rows,
    )
