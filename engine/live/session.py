"""A live session: MIDI in, through the groove, MIDI out, in real time.

The main thread builds everything (loads and validates the groove, opens
the backend, prepares and compiles the engine), starts the stream, then
loops a few times a second: it swaps in reloaded files and CC changes
(built here, applied by the engine at a block boundary), prints notices and
the status line, and watches for a signal, a lost server or a failed audio
path.  Whatever ends the session, ``Backend.close`` first has the audio
thread send a note-off for every sounding note and All Notes Off on the
channels used.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass, field

from engine.live.backends.core import BlockCore, bar_beat

from .backends import BackendOptions, get_backend
from .control import CCMap, FileWatcher, GrooveSource, parse_cc

LOOP_SEC = 0.05
STATUS_SEC = 0.25
#: Without a terminal, a status line this often (seconds).
PLAIN_STATUS_SEC = 10.0
CC_APPLY_SEC = 0.05


@dataclass
class LiveConfig:
    """Everything ``groove live`` was asked for (see ``engine.cli.live``)."""

    preset: str | None = None
    rack: str | None = None
    backend: str = "jack"
    in_port: str | None = None
    out_port: str | None = None
    bpm: float = 120.0
    sync: str = "internal"
    send_clock: bool = False
    latency_ms: float | None = None
    click: bool = False
    name: str = "groove"
    autostart: bool = False
    cc: list = field(default_factory=list)
    midi_api: str | None = None
    device: str | None = None
    block_frames: int | None = None
    send_timing: str = "thread"
    reload: bool = True
    status: bool | None = None  # None: when stderr is a terminal


class Session:
    """One ``groove live`` run; ``run()`` returns the exit code."""

    def __init__(self, config: LiveConfig, out=None, source=None):
        self.config = config
        self.out = out or sys.stdout
        self.source = source or GrooveSource(config.preset, config.rack)
        self.cc = CCMap(parse_cc(config.cc))
        self.backend = self.engine = self.core = self.watcher = None
        self.preset = None  # the preset the CC values apply to
        self.signal = None
        self.ready_sec = None
        self._t0 = time.perf_counter()

    # -- set-up (main thread) ----------------------------------------------
    def _build(self):
        from engine.host.engine import Engine
        from engine.host.processors import GrooveProcessor, rack_for_preset

        rack, preset = self.source.load()
        if rack is None:
            rack = rack_for_preset(preset, latency_ms=self.config.latency_ms)
        elif self.config.latency_ms is not None:
            gp = rack.find(GrooveProcessor)
            if gp is not None:
                gp.latency_ms = self.config.latency_ms
        if preset is not None:
            self.cc.check(preset)
        elif self.cc.mapping:
            raise ValueError(f"--cc: {self.source.label()} has no groove processor to drive")
        self.preset = preset
        return Engine(rack)

    def open(self) -> None:
        """Load, open, prepare and start; prints one ``ready`` line."""
        cfg = self.config
        if not 1.0 <= cfg.bpm <= 999.0:
            raise ValueError(f"--bpm: {cfg.bpm:g} is outside 1 .. 999")
        if cfg.latency_ms is not None and not 0.0 <= cfg.latency_ms <= 2000.0:
            raise ValueError(f"--latency-ms: {cfg.latency_ms:g} is outside 0 .. 2000")
        self.engine = self._build()
        opts = BackendOptions(
            name=cfg.name,
            in_port=cfg.in_port,
            out_port=cfg.out_port,
            click=cfg.click,
            midi_api=cfg.midi_api,
            device=cfg.device,
            block_frames=cfg.block_frames,
            send_timing=cfg.send_timing,
        )
        self.backend = get_backend(cfg.backend, opts)
        self.backend.open()
        eng = self.engine
        try:
            eng.prepare(self.backend.sample_rate, self.backend.max_block)
            eng.transport.set_tempo(cfg.bpm)
            if cfg.autostart:
                eng.transport.play()
            self.core = BlockCore(
                eng,
                self.backend.sample_rate,
                sync=cfg.sync,
                bpm=cfg.bpm,
                send_clock=cfg.send_clock,
                cc_map=self.cc.mapping,
            )
            # A short switch interval keeps other Python threads from holding the
            # GIL for long while the audio callback waits for it.
            sys.setswitchinterval(0.0005)
            self.backend.start(self.core)
        except BaseException:
            self.backend.close(0.5)
            raise
        if cfg.reload:
            self.watcher = FileWatcher(self.source)
            self.watcher.start()
        self.ready_sec = time.perf_counter() - self._t0
        self._print(
            f"groove live: ready in {self.ready_sec:.2f} s: {self.backend.describe()}; "
            f"groove {self._groove_name()}, latency {self._latency_ms():.1f} ms, "
            f"sync {cfg.sync}"
            + (", clock out" if cfg.send_clock else "")
            + ("" if cfg.autostart or cfg.sync == "midi" else "; waiting for MIDI Start")
        )

    # -- the main loop -------------------------------------------------------
    def run(self) -> int:
        """Open, loop until a signal or a failure, close (with a panic)."""
        old = {}
        if threading.current_thread() is threading.main_thread():
            old = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        code = 0
        try:
            self.open()
            code = self._loop()
        finally:
            self.close()
            for s, h in old.items():
                signal.signal(s, h)
        return code

    def _on_signal(self, signum, frame):
        self.signal = signum

    def stop(self) -> None:
        """End ``run`` from another thread (as a signal would)."""
        self.signal = "stop"

    def _loop(self) -> int:
        tty = self.config.status if self.config.status is not None else sys.stderr.isatty()
        next_status, next_cc, plain_next = 0.0, 0.0, time.perf_counter() + PLAIN_STATUS_SEC
        while self.signal is None:
            time.sleep(LOOP_SEC)
            now = time.perf_counter()
            for notice in self.backend.poll():
                self._print(f"groove live: {notice}", tty)
            while self.core.notices:
                self._print(f"groove live: {self.core.notices.popleft()}", tty)
            if not self.backend.alive:
                self._print("groove live: the audio server is gone; stopping", tty)
                return 1
            if self.core.failed is not None:
                self._print(
                    f"groove live: the audio path failed ({self.core.failed!r}); "
                    "every note was ended",
                    tty,
                )
                return 1
            self._reloads(tty)
            if now >= next_cc:
                self._apply_cc()
                next_cc = now + CC_APPLY_SEC
            if tty and now >= next_status:
                sys.stderr.write("\r" + self.status_line()[:200].ljust(100))
                sys.stderr.flush()
                next_status = now + STATUS_SEC
            elif not tty and now >= plain_next:
                self._print(self.status_line())
                plain_next = now + PLAIN_STATUS_SEC
        if tty:
            sys.stderr.write("\n")
        return 0

    def _reloads(self, tty):
        from engine.host.processors import GrooveProcessor

        while self.watcher is not None and self.watcher.results:
            status, value = self.watcher.results.popleft()
            if status == "error":
                self._print(f"groove live: {value} (keeping the previous groove)", tty)
                continue
            rack, preset = value
            try:
                if rack is None:
                    self.preset = preset
                    self.engine.set_groove(*self.cc.apply(preset, preset.amounts))
                else:
                    if self.config.latency_ms is not None and rack.find(GrooveProcessor):
                        rack.find(GrooveProcessor).latency_ms = self.config.latency_ms
                    self.engine.swap_rack(rack)
                    self.preset = preset
                    if preset is not None and self.cc.values:
                        self.engine.set_groove(*self.cc.apply(preset, preset.amounts))
            except (ValueError, TypeError) as exc:
                self._print(
                    f"groove live: {self.source.label()}: {exc} (keeping the previous groove)", tty
                )
                continue
            self._print(
                f"groove live: reloaded {self.source.label()}: groove {self._groove_name(preset)}",
                tty,
            )

    def _apply_cc(self):
        changed = False
        while self.core.cc_values:
            name, value = self.core.cc_values.popleft()
            changed |= self.cc.values.get(name) != value
            self.cc.values[name] = value
        if changed and self.preset is not None:
            try:
                self.engine.set_groove(*self.cc.apply(self.preset, self.preset.amounts))
            except ValueError as exc:
                self.core.notices.append(f"CC ignored: {exc}")

    # -- shutdown ----------------------------------------------------------
    def close(self) -> None:
        """Final panic through the audio thread, then close everything."""
        if self.watcher is not None:
            self.watcher.stop()
        if self.backend is not None:
            self.backend.close(1.0)
            if self.core is not None:
                extra = self.backend.report()
                self._print(
                    "groove live: stopped; " + self._counts() + (f"; {extra}" if extra else "")
                )
            self.backend = None

    # -- status ------------------------------------------------------------
    def status_line(self) -> str:
        """tempo, bar:beat, groove, latency, events in/out, late, xruns."""
        playing, beat, bpf = self.core.transport_view
        bpm = bpf * self.backend.sample_rate * 60.0 if bpf > 0 else self.config.bpm
        where = bar_beat(beat) if playing else "stopped"
        return (
            f"{bpm:6.1f} bpm  {where:>7}  {self._groove_name()}  "
            f"L {self._latency_ms():.1f} ms  {self._counts()}"
        )

    def _counts(self) -> str:
        c = self.core.counts
        b = self.backend
        return (
            f"in {c['midi_in']} out {c['midi_out']} late {self.late_events()} "
            f"xruns {b.xruns if b else 0} dropped {self.dropped_events()}"
        )

    def late_events(self) -> int:
        """Events that were due before their block (sent at once)."""
        eng = self.engine
        return int(eng.stats.get("late", 0)) + sum(
            int(getattr(p, "late", 0)) for p in eng.rack.processors
        )

    def dropped_events(self) -> int:
        """Events lost anywhere we can see (lists full, port buffers, rtmidi errors)."""
        eng = self.engine
        lost = int(eng.stats.get("dropped", 0)) + sum(
            int(getattr(p, "dropped", 0)) for p in eng.rack.processors
        )
        return lost + (self.backend.dropped if self.backend else 0)

    def _latency_ms(self) -> float:
        tr = self.engine.transport
        bpm = tr.bpm if tr is not None else self.config.bpm
        return self.engine.latency_beat * 60.0 / bpm * 1000.0

    def _groove_name(self, preset=None) -> str:
        preset = preset or self.preset
        if preset is None:
            return "(rack)"
        return preset.name or preset.groove.kind

    def _print(self, text, tty=False):
        if tty:
            sys.stderr.write("\r" + " " * 100 + "\r")
        print(text, file=self.out, flush=True)
