"""A live session: MIDI in, through the groove, MIDI out, in real time.

The main thread builds everything (loads and validates the groove, opens
the backend, builds and warms the rack: the compiled live kernel on JACK, or
the Python engine for a rack the kernel cannot compile; see ``paths``),
starts the stream, then loops a few times a second: it hands reloaded files
to the audio thread (validated and compiled here, swapped in at a block
boundary), prints notices and the status line, and watches for a signal
(SIGINT, SIGTERM, SIGHUP), a lost server or a failed audio path.  Whatever
ends the session, ``Backend.close`` first has the audio thread send a
note-off for every sounding note and All Notes Off on the channels used.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

from engine.live.backends.core import bar_beat

from .backends import BackendOptions
from .control import CCMap, FileWatcher, GrooveSource, parse_cc
from .paths import open_path

LOOP_SEC = 0.05
STATUS_SEC = 0.25
#: Without a terminal, a status line this often (seconds).
PLAIN_STATUS_SEC = 10.0
CC_APPLY_SEC = 0.05
#: nice value of the main and watcher threads on the kernel path (see Session._background)
BACKGROUND_NICE = 10
#: The signals that end a session (closing the terminal sends SIGHUP).
END_SIGNALS = tuple(
    getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n)
)


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
    min_bpm: float | None = None  # the slowest tempo L covers (None: bpm, or 60 under sync midi)
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
    synth: bool = False  # play the output through FluidSynth (JACK out_1/out_2, PortAudio device)
    soundfont: str | None = None  # for synth (default: engine.audio.soundfont's lookup)
    connect: bool = True  # synth: connect out_1/out_2 to the playback ports


def _soundfont(cfg) -> str | None:
    """The SoundFont ``--synth`` plays (None without it); errors are one line, exit 2."""
    if not cfg.synth:
        if cfg.soundfont:
            raise ValueError("--soundfont plays --synth; give --synth too")
        return None
    from engine.audio.fluid import SynthError, available
    from engine.audio.soundfont import find_soundfont

    why = available()
    if why:
        raise SynthError(why)
    return str(find_soundfont(cfg.soundfont).path)


class Session:
    """One ``groove live`` run; ``run()`` returns the exit code."""

    def __init__(self, config: LiveConfig, out=None, source=None):
        self.config = config
        self.out = out or sys.stdout
        self.source = source or GrooveSource(config.preset, config.rack)
        self.cc = CCMap(parse_cc(config.cc))
        self.backend = self.path = self.watcher = None
        self.signal = None
        self.ready_sec = None
        self._t0 = time.perf_counter()

    # -- set-up (main thread) ----------------------------------------------
    def _load(self):
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
        return rack, preset

    @property
    def engine(self):
        """The Python path's engine (None on the compiled kernel path)."""
        return getattr(self.path, "engine", None)

    @property
    def core(self):
        return getattr(self.path, "core", None)

    @property
    def preset(self):
        return self.path.preset if self.path is not None else None

    def open(self) -> None:
        """Load, open, prepare and start; prints one ``ready`` line."""
        cfg = self.config
        if not 1.0 <= cfg.bpm <= 999.0:
            raise ValueError(f"--bpm: {cfg.bpm:g} is outside 1 .. 999")
        if cfg.min_bpm is not None and not 1.0 <= cfg.min_bpm <= 999.0:
            raise ValueError(f"--min-bpm: {cfg.min_bpm:g} is outside 1 .. 999")
        if cfg.latency_ms is not None and not 0.0 <= cfg.latency_ms <= 2000.0:
            raise ValueError(f"--latency-ms: {cfg.latency_ms:g} is outside 0 .. 2000")
        rack, preset = self._load()
        opts = BackendOptions(
            name=cfg.name,
            in_port=cfg.in_port,
            out_port=cfg.out_port,
            click=cfg.click,
            midi_api=cfg.midi_api,
            device=cfg.device,
            block_frames=cfg.block_frames,
            send_timing=cfg.send_timing,
            synth=_soundfont(cfg),
            connect_audio=cfg.connect,
        )
        self.path = open_path(cfg, rack, preset, opts, self.cc)
        if self.path.preset is None:
            self.path.preset = preset
        self.backend = self.path.backend
        if cfg.reload:
            self.watcher = FileWatcher(self.source)
            self.watcher.start()
        self.ready_sec = time.perf_counter() - self._t0
        self._print(
            f"groove live: ready in {self.ready_sec:.2f} s: {self.backend.describe()}; "
            f"{self.path.describe()}; "
            f"groove {self._groove_name()}, latency {self._latency_ms():.1f} ms"
            f"{self.path.latency_covers()}, "
            f"sync {cfg.sync}"
            + (", clock out" if cfg.send_clock else "")
            + ("" if cfg.autostart or cfg.sync == "midi" else "; waiting for MIDI Start")
        )
        if self.path.realtime_safe:
            self._background()

    def _background(self) -> None:
        """Make this process's Python a polite neighbour of the audio thread.

        The compiled callback needs no GIL, but on a machine with few cores the
        main thread's and the file watcher's Python work (parsing and compiling
        a reload) competes with it for a CPU: both run at a lower priority
        (``BACKGROUND_NICE``; per thread on Linux; the audio thread, made by
        libjack at activation, keeps its own), and what start-up left in memory
        is frozen out of the garbage collector's scans (``gc.freeze``).
        """
        import gc

        gc.collect()
        gc.freeze()
        tids = [threading.get_native_id()]
        thread = getattr(self.watcher, "_thread", None)
        if thread is not None and thread.native_id is not None:
            tids.append(thread.native_id)
        self._reniced = []
        for tid in tids:
            try:
                old = os.getpriority(os.PRIO_PROCESS, tid)
                os.setpriority(os.PRIO_PROCESS, tid, max(old, BACKGROUND_NICE))
                self._reniced.append((tid, old))
            except (OSError, AttributeError):  # not Linux, or not allowed: leave it
                pass

    def _foreground(self) -> None:
        """Undo ``_background`` for this thread (a process may run more than a session)."""
        import gc

        if getattr(self, "_reniced", None) is None:
            return
        gc.unfreeze()
        tid = threading.get_native_id()
        for t, old in getattr(self, "_reniced", ()):
            if t == tid:
                try:
                    os.setpriority(os.PRIO_PROCESS, tid, old)
                except OSError:  # lowering nice needs CAP_SYS_NICE: stays polite
                    pass
        self._reniced = None

    # -- the main loop -------------------------------------------------------
    def run(self) -> int:
        """Open, loop until a signal or a failure, close (with a panic)."""
        old = {}
        if threading.current_thread() is threading.main_thread():
            old = {s: signal.signal(s, self._on_signal) for s in END_SIGNALS}
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
        path = self.path
        while self.signal is None:
            time.sleep(LOOP_SEC)
            now = time.perf_counter()
            for notice in self.backend.poll() + path.notices():
                self._print(f"groove live: {notice}", tty)
            if not self.backend.alive:
                self._print("groove live: the audio server is gone; stopping", tty)
                return 1
            if path.failed is not None:
                self._print(
                    f"groove live: the audio path failed ({path.failed}); every note was ended",
                    tty,
                )
                return 1
            self._reloads(tty)
            if now >= next_cc:
                path.tick(self.cc)
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
        while self.watcher is not None and self.watcher.results:
            status, value = self.watcher.results.popleft()
            if status == "error":
                self._print(f"groove live: {value} (keeping the previous groove)", tty)
                continue
            rack, preset = value
            try:
                changed = self.path.reload(rack, preset, self.cc, self.config.latency_ms)
            except Exception as exc:  # a reload never ends the session
                self._print(
                    f"groove live: {self.source.label()}: {exc} (keeping the previous groove)", tty
                )
                continue
            same = "" if changed is not False else " (unchanged: nothing swapped)"
            self._print(
                f"groove live: reloaded {self.source.label()}: groove "
                f"{self._groove_name(preset)}{same}",
                tty,
            )

    # -- shutdown ----------------------------------------------------------
    def close(self) -> None:
        """Final panic through the audio thread, then close everything."""
        if self.watcher is not None:
            self.watcher.stop()
        self._foreground()
        if self.backend is not None:
            self.backend.close(1.0)
            if self.path is not None:
                self.path.tick(self.cc)
                extra = self.backend.report()
                self._print(
                    "groove live: stopped; " + self._counts() + (f"; {extra}" if extra else "")
                )
            self.backend = None

    # -- status ------------------------------------------------------------
    def status_line(self) -> str:
        """tempo, bar:beat, groove, latency, events in/out, late, xruns."""
        playing, beat, bpm = self.path.transport()
        bpm = bpm or self.config.bpm
        where = bar_beat(beat) if playing else "stopped"
        safe = "" if self.path.realtime_safe else "  NOT real-time safe"
        return (
            f"{bpm:6.1f} bpm  {where:>7}  {self._groove_name()}  "
            f"L {self._latency_ms():.1f} ms  {self._counts()}{self.path.needs()}{safe}"
        )

    def _counts(self) -> str:
        c = self.path.counts()
        b = self.backend
        return (
            f"in {c['midi_in']} out {c['midi_out']} late {c['late']} "
            f"xruns {b.xruns if b else 0} dropped {c['dropped']}"
        )

    def late_events(self) -> int:
        """Events that were due before their block (sent at once)."""
        return self.path.counts()["late"]

    def dropped_events(self) -> int:
        """Events lost anywhere we can see (lists full, port buffers, rtmidi errors)."""
        return self.path.counts()["dropped"]

    @property
    def latency_beat(self) -> float:
        """The session's latency L in beats (at the transport's tempo)."""
        if self.engine is not None:
            return self.engine.latency_beat
        bpm = self.path.transport()[2] or self.config.bpm
        return self._latency_ms() / 1000.0 * bpm / 60.0

    def _latency_ms(self) -> float:
        return self.path.latency_ms(self.config.bpm)

    def _groove_name(self, preset=None) -> str:
        preset = preset or self.preset
        if preset is None:
            return "(rack)"
        return preset.name or preset.groove.kind

    def _print(self, text, tty=False):
        if tty:
            sys.stderr.write("\r" + " " * 100 + "\r")
        print(text, file=self.out, flush=True)
