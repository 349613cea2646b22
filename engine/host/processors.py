"""The built-in processors and the registry a rack file names them from.

Timing processors (``groove``, ``quantize``, ``humanize``) delay live events
(see ``engine.host.delay``) and, on a timeline, are folded into each note's
position by the scheduler.  The others change events in place: ``velocity``,
``filter``, ``transpose``.  Third-party processors join the registry through
the ``groove.processors`` entry-point group (see ``engine.host.rack_file``).
"""

from __future__ import annotations

import numpy as np

from engine.presets.model import Amounts, Preset
from groove import straight
from groove.transform import STREAM_TIMING, STREAM_VELOCITY, note_noise, quantize_beat

from . import _kernels as ek
from .delay import DelayProcessor
from .events import CONTROL_CHANGE, NOTE_OFF, NOTE_ON, SPECS
from .groovebank import GrooveBank
from .processor import Block, Processor


class GrooveState:
    """A preset with its amounts, compiled for the audio thread (immutable).

    Built on the main thread; the processor swaps the whole object in at a
    block boundary, so the audio thread never sees half an update.
    """

    def __init__(self, preset: Preset, amounts: Amounts):
        self.preset = preset
        self.amounts = amounts
        grooves = [g.scaled(amounts.timing) for g in preset.grooves()]
        self.identity_lane = len(grooves)
        self.bank = GrooveBank(grooves + [straight()])
        self.lane_of_pitch = preset.lane_of_pitch() + 1
        self.early_beat = max(0.0, -float(self.bank.min_dev_beat.min()))


class GrooveProcessor(DelayProcessor):
    """Apply a groove preset (its lanes and amounts) to events.

    Parameters
    ----------
    preset : Preset or groove.Groove
    amounts : Amounts, optional
        Defaults to the preset's own.
    latency_ms : float, optional
        Fixed live latency; default: the largest early move of the groove.
    """

    name = "groove"

    def __init__(self, preset, amounts=None, latency_ms=None):
        super().__init__(latency_ms=latency_ms)
        if not isinstance(preset, Preset):
            preset = Preset.from_groove(preset)
        self.current = GrooveState(preset, amounts or preset.amounts)
        self._next = None

    def set(self, preset=None, amounts=None):
        """[main thread] Build a new state now; the audio thread swaps it in."""
        preset = preset or self.current.preset
        if preset is not None and not isinstance(preset, Preset):
            preset = Preset.from_groove(preset)
        self._next = GrooveState(preset, amounts or self.current.amounts)

    def prepare(self, sample_rate, max_block):
        super().prepare(sample_rate, max_block)
        bank = self.current.bank
        ek.map_lanes(np.zeros(1), np.zeros(1, np.int64), np.zeros(1), *bank.args())

    def process(self, block: Block):
        if self._next is not None:
            self.current, self._next = self._next, None
        super().process(block)

    def early_beat(self, bpm):
        return self.current.early_beat

    def map_beats(self, beats, events):
        st = self.current
        lanes = st.lane_of_pitch[events["key"]]
        note = (events["kind"] == NOTE_ON) | (events["kind"] == NOTE_OFF) | (events["kind"] == 0xA0)
        lanes = np.where(note, lanes, 0)
        out = np.empty_like(beats)
        ek.map_lanes(beats, lanes.astype(np.int64), out, *st.bank.args())
        v = st.amounts.velocity
        ons = np.flatnonzero(events["kind"] == NOTE_ON)
        if v != 0.0 and ons.size:
            for k, g in enumerate(st.preset.grooves()):
                sel = ons[lanes[ons] == k]
                if sel.size:
                    accent = g.accent(beats[sel])
                    vel = events["value"][sel] * (1.0 + v * (accent - 1.0))
                    events["value"][sel] = np.clip(np.rint(vel), 1, 127)
        return out

    def params(self):
        a = self.current.amounts
        return dict(
            preset=self.current.preset.name,
            timing=a.timing,
            quantize=a.quantize,
            velocity=a.velocity,
        )

    def state(self):
        return dict(
            super().state(), groove=self.current.preset.name, timing=self.current.amounts.timing
        )


class QuantizeProcessor(DelayProcessor):
    """Pull events toward a grid by ``amount`` (0..1)."""

    name = "quantize"

    def __init__(self, grid="1/16", amount=1.0, latency_ms=None):
        from groove import grid_step_beat

        super().__init__(latency_ms=latency_ms)
        self.grid = grid
        self.grid_beat = float(grid_step_beat(grid))
        if not 0.0 <= amount <= 1.0:
            raise ValueError(f"amount: {amount!r} is outside 0 .. 1")
        self.amount = float(amount)

    def map_beats(self, beats, events):
        return quantize_beat(beats, self.grid_beat, self.amount)

    def pre_map(self, beats, track, index, tempo_us):
        return quantize_beat(beats, self.grid_beat, self.amount)

    def early_beat(self, bpm):
        return 0.5 * self.grid_beat * self.amount

    def params(self):
        return dict(grid=self.grid, amount=self.amount)


class HumanizeProcessor(DelayProcessor):
    """Deterministic random timing (Gaussian, ms, clipped at 2.5 sigma) and velocity."""

    name = "humanize"

    def __init__(self, time_ms=5.0, velocity=0.0, seed=0, latency_ms=None):
        super().__init__(latency_ms=latency_ms)
        if not 0.0 <= time_ms <= 1000.0:
            raise ValueError(f"time_ms: {time_ms!r} is outside 0 .. 1000")
        if not 0.0 <= velocity <= 127.0:
            raise ValueError(f"velocity: {velocity!r} is outside 0 .. 127")
        self.time_ms, self.velocity, self.seed = float(time_ms), float(velocity), int(seed)
        self._count = 0

    def map_beats(self, beats, events):
        n = beats.shape[0]
        index = np.arange(self._count, self._count + n, dtype=np.int64)
        self._count += n
        bpm = self._bpm
        z = note_noise(self.seed, STREAM_TIMING, 0, index)
        if self.velocity:
            zv = note_noise(self.seed, STREAM_VELOCITY, 0, index)
            on = events["kind"] == NOTE_ON
            vel = events["value"] + self.velocity * zv
            events["value"] = np.where(on, np.clip(np.rint(vel), 1, 127), events["value"])
        # note-offs follow their note-on (DelayProcessor never lets them go first)
        return beats + z * self.time_ms / 1000.0 * bpm / 60.0

    def process(self, block):
        self._bpm = block.beats_per_frame * block.sample_rate * 60.0
        super().process(block)

    def pre_map(self, beats, track, index, tempo_us):
        z = note_noise(self.seed, STREAM_TIMING, track, index)
        return beats + z * self.time_ms * 1000.0 / tempo_us

    def early_beat(self, bpm):
        return 2.5 * self.time_ms / 1000.0 * bpm / 60.0

    def params(self):
        return dict(time_ms=self.time_ms, velocity=self.velocity, seed=self.seed)


class VelocityProcessor(Processor):
    """Note-on velocity: ``clamp(round(127 * (scale * v / 127) ** curve), lo, hi)``."""

    name = "velocity"

    def __init__(self, scale=1.0, curve=1.0, min=1, max=127):
        super().__init__()
        if not (0.0 < scale <= 4.0 and 0.1 <= curve <= 10.0 and 1 <= min <= max <= 127):
            raise ValueError(
                f"velocity: scale {scale!r} (0..4], curve {curve!r} [0.1, 10], "
                f"1 <= min {min!r} <= max {max!r} <= 127"
            )
        self.scale, self.curve, self.lo, self.hi = float(scale), float(curve), int(min), int(max)
        self._table = np.clip(
            np.rint(127.0 * np.minimum(self.scale * np.arange(128) / 127.0, 4.0) ** self.curve),
            self.lo,
            self.hi,
        )

    def process(self, block):
        ev = block.events_in.view()
        if ev.shape[0] == 0:
            return
        on = ev["kind"] == NOTE_ON
        ev["value"][on] = self._table[ev["value"][on]]
        block.events_out.extend(ev, presorted=True)

    def params(self):
        return dict(scale=self.scale, curve=self.curve, min=self.lo, max=self.hi)


class FilterProcessor(Processor):
    """Keep only events on the given channels (1..16), notes and kinds."""

    name = "filter"

    def __init__(self, channels=None, notes=None, kinds=None):
        super().__init__()
        self._channel = np.ones(16, bool)
        if channels is not None:
            self._channel[:] = False
            for c in channels:
                if not 1 <= c <= 16:
                    raise ValueError(f"channels: {c!r} is outside 1 .. 16")
                self._channel[c - 1] = True
        self._note = np.ones(128, bool)
        if notes is not None:
            self._note[:] = False
            for n in notes:
                if not 0 <= n <= 127:
                    raise ValueError(f"notes: {n!r} is outside 0 .. 127")
                self._note[n] = True
        self._kind = np.ones(256, bool)
        if kinds is not None:
            names = {spec[0]: k for k, spec in SPECS.items()}
            self._kind[:] = False
            for name in kinds:
                if name not in names:
                    raise ValueError(f"kinds: {name!r} is not one of {', '.join(names)}")
                self._kind[names[name]] = True
                if name == "note_on":
                    self._kind[NOTE_OFF] = True
        self.channels, self.notes, self.kinds = channels, notes, kinds

    def process(self, block):
        ev = block.events_in.view()
        noteish = (ev["kind"] == NOTE_ON) | (ev["kind"] == NOTE_OFF) | (ev["kind"] == 0xA0)
        keep = (
            self._channel[ev["channel"]]
            & self._kind[ev["kind"]]
            & (~noteish | self._note[ev["key"]])
        )
        block.events_out.extend(ev[keep], presorted=True)

    def params(self):
        return dict(channels=self.channels, notes=self.notes, kinds=self.kinds)


class TransposeProcessor(Processor):
    """Shift notes by ``semitones``; a note-off follows its note-on's shift."""

    name = "transpose"

    def __init__(self, semitones=0):
        super().__init__()
        if not -127 <= semitones <= 127:
            raise ValueError(f"semitones: {semitones!r} is outside -127 .. 127")
        self.semitones = int(semitones)
        self._shift = np.zeros(16 * 128, dtype=np.int64)  # shift used at each key's note-on
        self._next = None

    def set(self, semitones):
        self._next = int(semitones)

    def process(self, block):
        if self._next is not None:
            self.semitones, self._next = self._next, None
        ev = block.events_in.view()
        keep = np.ones(ev.shape[0], bool)
        # in order: a note-off must see the shift of the note-on before it
        for i in range(ev.shape[0]):
            kind = ev[i]["kind"]
            if kind not in (NOTE_ON, NOTE_OFF, 0xA0):
                continue
            slot = int(ev[i]["channel"]) * 128 + int(ev[i]["key"])
            if kind == NOTE_ON:
                self._shift[slot] = self.semitones
            key = int(ev[i]["key"]) + (self.semitones if kind == 0xA0 else self._shift[slot])
            keep[i] = 0 <= key <= 127
            ev[i]["key"] = min(max(key, 0), 127)
        block.events_out.extend(ev[keep], presorted=True)

    def reset(self):
        self._shift[:] = 0

    def params(self):
        return dict(semitones=self.semitones)


BUILTIN = {
    cls.name: cls
    for cls in (
        GrooveProcessor,
        QuantizeProcessor,
        HumanizeProcessor,
        VelocityProcessor,
        FilterProcessor,
        TransposeProcessor,
    )
}


def rack_for_preset(preset, amounts=None, latency_ms=None):
    """A rack holding just one groove processor for ``preset``."""
    from .processor import Rack

    return Rack([GrooveProcessor(preset, amounts, latency_ms=latency_ms)])


__all__ = [
    "GrooveState",
    "GrooveProcessor",
    "QuantizeProcessor",
    "HumanizeProcessor",
    "VelocityProcessor",
    "FilterProcessor",
    "TransposeProcessor",
    "BUILTIN",
    "rack_for_preset",
    "CONTROL_CHANGE",
    "Amounts",
]
