"""The two ways a live session runs its rack, behind one small interface.

* :class:`KernelPath` (real-time safe): the compiled live kernel
  (``engine.host.live_kernel.LiveKernel``) run by the native JACK backend's
  C callback, or called once per block (``nogil``) by the PortAudio
  backend's callback; the main thread talks to it only through the
  kernel's command ring and table swap (``command``, ``load_groove``,
  ``poll``).
* :class:`PythonPath` (not real-time safe): the engine and BlockCore in a
  Python callback, for racks the kernel cannot compile (a third-party
  processor); with ``--synth`` it plays the synth from that callback too.

``open_path`` picks one: the kernel path (JACK or PortAudio) when
``LiveKernel.build`` accepts the rack.  Both offer ``transport()``,
``counts()``, ``latency_ms()``, ``notices()``, ``failed``, ``reload()`` and
``tick()`` to the session's main loop.
"""

from __future__ import annotations

import os
import sys

from .backends import BackendOptions, get_backend

#: GROOVE_LIVE_PATH=python forces the Python path on JACK too (to compare the
#: two side by side: bench/bench_live.py); unset or "kernel": the kernel path.
PATH_ENV = "GROOVE_LIVE_PATH"


def _kernel_module():
    """engine.host.live_kernel unless the Python path was asked for."""
    if os.environ.get(PATH_ENV, "kernel") == "python":
        return None
    from engine.host import live_kernel

    return live_kernel


def open_path(cfg, rack, preset, opts: BackendOptions, cc):
    """The opened and started path for this session (kernel when it can be)."""
    reason = None
    lk = _kernel_module() if cfg.backend in ("jack", "portaudio") else None
    if lk is not None:
        path = _open_kernel(lk, cfg, rack, preset, opts, cc)
        if not isinstance(path, str):
            return path
        reason = path
    return PythonPath.open(cfg, rack, opts, cc, reason)


def _open_kernel(lk, cfg, rack, preset, opts, cc):
    """A started KernelPath, or why the rack does not compile (the backend closed)."""
    jack = cfg.backend == "jack"
    backend = get_backend("jack", opts, native=True) if jack else get_backend(cfg.backend, opts)
    backend.open()
    try:
        kern = lk.LiveKernel.build(
            rack,
            sample_rate=backend.sample_rate,
            max_block=backend.max_block,
            latency_ms=cfg.latency_ms,
            bpm=cfg.bpm,
            sync=cfg.sync,
            min_bpm=getattr(cfg, "min_bpm", None),
            send_clock=cfg.send_clock,
            cc_map=cc.mapping or None,
            click=cfg.click,
        )
    except lk.NotCompilable as exc:
        backend.close(0.1)
        return str(exc)
    except BaseException:
        backend.close(0.1)
        raise
    try:
        kern.prepare()
        if cfg.autostart:
            kern.command("start")  # taken by the first block
        backend.start(kern)
    except BaseException:
        backend.close(0.5)
        raise
    return KernelPath(kern, backend, preset)


class KernelPath:
    """The compiled kernel in the native JACK callback or the PortAudio callback (with
    ``--synth`` the backend plays the kernel's output rows through FluidSynth after it)."""

    realtime_safe = True

    def __init__(self, kernel, backend, preset):
        self.kernel, self.backend = kernel, backend
        self.preset = preset
        self.failed = None
        self._stats = {}
        self._errors = 0

    def tick(self, cc) -> None:
        """Reclaim swapped tables, refresh the counters, apply blend-weight CCs."""
        kern = self.kernel
        self._stats = kern.poll() or {}
        taken = getattr(kern, "cc_values", None)
        weights = False
        while taken:
            name, value = taken.pop(0)
            weights |= name.startswith("weight") and cc.values.get(name) != value
            cc.values[name] = value
        # Timing, quantize and velocity CCs act inside the kernel at their frame;
        # a blend weight needs new tables, built here and swapped in.
        if weights and self.preset is not None:
            preset, _ = cc.apply(self.preset, self.preset.amounts)
            kern.load_groove(preset, self.preset.amounts)

    def transport(self):
        view = getattr(self.kernel, "transport_view", None)
        if view is None:
            return bool(self._stats.get("playing", False)), 0.0, None
        playing, beat, bpf = view()
        bpm = bpf * self.backend.sample_rate * 60.0 if bpf > 0 else None
        return playing, beat, bpm

    def counts(self) -> dict:
        st, b = self._stats, self.backend
        c = b.counts()
        return dict(
            midi_in=c["midi_in"],
            midi_out=c["midi_out"],
            late=int(st.get("late", 0)),
            dropped=int(st.get("dropped", 0)) + b.dropped,
        )

    def latency_ms(self, bpm) -> float:
        return 1000.0 * self.kernel.latency_frame / self.backend.sample_rate

    def latency_covers(self) -> str:
        """What the fixed L covers, for the ready line."""
        kern = self.kernel
        if kern.cfg_latency_ms is not None:
            return " (fixed by --latency-ms)"
        return f" (fixed; covers {kern.latency_bpm:g} bpm and faster)"

    def needs(self) -> str:
        need = self._stats.get("needs_latency_ms")
        return f"  needs --latency-ms {need:.1f}" if need else ""

    def notices(self) -> list:
        errors = int(self._stats.get("errors", 0))
        if errors > self._errors:
            self._errors = errors
            return [f"the kernel counted {errors} errors (notes were ended)"]
        return []

    def reload(self, rack, preset, cc, latency_ms) -> bool:
        """A reloaded groove: validated and compiled here, swapped in by the kernel.

        Returns False when nothing changed (a preset equal to the loaded one: an
        editor's save without an edit, a comment), so no tables are built or swapped.
        """
        if rack is None and preset is not None and preset == self.preset:
            return False
        if rack is not None:
            load_rack = getattr(self.kernel, "load_rack", None)
            if load_rack is not None:
                load_rack(rack)
                self.preset = preset
                return True
            if preset is None:
                raise ValueError("the rack has no groove processor (restart to change processors)")
        load_groove = getattr(self.kernel, "load_groove", None)
        if load_groove is None:
            raise ValueError("this kernel cannot swap grooves yet (restart to change it)")
        grooved = cc.apply(preset, preset.amounts)[0] if cc.values else preset
        load_groove(grooved, preset.amounts)  # blend weights set by CC survive the reload
        self.preset = preset
        return True

    def describe(self) -> str:
        if getattr(self.backend, "name", "jack") == "portaudio":
            return "real-time safe rack (compiled kernel, a nogil call in PortAudio's callback)"
        return "real-time safe (compiled kernel)"


class PythonPath:
    """Engine + BlockCore in a Python callback (not real-time safe)."""

    realtime_safe = False

    def __init__(self, engine, core, backend, preset, reason=None):
        self.engine, self.core, self.backend = engine, core, backend
        self.preset = preset
        self.reason = reason

    @classmethod
    def open(cls, cfg, rack, opts, cc, reason=None):
        from engine.host.engine import Engine
        from engine.host.processors import GrooveProcessor
        from engine.live.backends.core import BlockCore

        gp = rack.find(GrooveProcessor)
        engine = Engine(rack)
        backend = get_backend(cfg.backend, opts)
        backend.open()
        try:
            engine.prepare(backend.sample_rate, backend.max_block)
            engine.transport.set_tempo(cfg.bpm)
            if cfg.autostart:
                engine.transport.play()
            core = BlockCore(
                engine,
                backend.sample_rate,
                sync=cfg.sync,
                bpm=cfg.bpm,
                send_clock=cfg.send_clock,
                cc_map=cc.mapping,
            )
            # A short switch interval keeps other Python threads from holding the
            # GIL for long while the audio callback waits for it.
            sys.setswitchinterval(0.0005)
            backend.start(core)
        except BaseException:
            backend.close(0.5)
            raise
        return cls(engine, core, backend, gp.current.preset if gp else None, reason)

    @property
    def failed(self):
        return None if self.core.failed is None else repr(self.core.failed)

    def tick(self, cc) -> None:
        """CC values taken by the audio thread become a rebuilt groove (here)."""
        changed = False
        while self.core.cc_values:
            name, value = self.core.cc_values.popleft()
            changed |= cc.values.get(name) != value
            cc.values[name] = value
        if changed and self.preset is not None:
            try:
                self.engine.set_groove(*cc.apply(self.preset, self.preset.amounts))
            except ValueError as exc:
                self.core.notices.append(f"CC ignored: {exc}")

    def transport(self):
        playing, beat, bpf = self.core.transport_view
        bpm = bpf * self.backend.sample_rate * 60.0 if bpf > 0 else None
        return playing, beat, bpm

    def counts(self) -> dict:
        eng, c = self.engine, self.core.counts
        late = int(eng.stats.get("late", 0)) + sum(
            int(getattr(p, "late", 0)) for p in eng.rack.processors
        )
        lost = int(eng.stats.get("dropped", 0)) + sum(
            int(getattr(p, "dropped", 0)) for p in eng.rack.processors
        )
        return dict(
            midi_in=c["midi_in"],
            midi_out=c["midi_out"],
            late=late,
            dropped=lost + self.backend.dropped,
        )

    def latency_ms(self, bpm) -> float:
        tr = self.engine.transport
        bpm = tr.bpm if tr is not None else bpm
        return self.engine.latency_beat * 60.0 / bpm * 1000.0

    def latency_covers(self) -> str:
        return " (follows the tempo)"

    def needs(self) -> str:
        return ""

    def notices(self) -> list:
        out = []
        while self.core.notices:
            out.append(self.core.notices.popleft())
        return out

    def reload(self, rack, preset, cc, latency_ms) -> bool:
        from engine.host.processors import GrooveProcessor

        if rack is None:
            self.preset = preset
            self.engine.set_groove(*cc.apply(preset, preset.amounts))
            return True
        if latency_ms is not None and rack.find(GrooveProcessor):
            rack.find(GrooveProcessor).latency_ms = latency_ms
        self.engine.swap_rack(rack)
        self.preset = preset
        if preset is not None and cc.values:
            self.engine.set_groove(*cc.apply(preset, preset.amounts))
        return True

    def describe(self) -> str:
        why = f": {self.reason}" if self.reason else ""
        return f"NOT real-time safe (Python callback{why})"
