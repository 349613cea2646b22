"""The processor interface and the rack that chains processors.

Modelled on CLAP's process call and JUCE's AudioProcessor.  Every method is
tagged with the thread it runs on:

- ``__init__`` / ``set``   [main thread]   validate parameters (may raise)
- ``prepare``              [main thread]   allocate buffers, compile numba
                                           kernels; may raise; called before
                                           the stream starts and again when
                                           the sample rate or block size changes
- ``process``              [audio thread]  read ``block.events_in``, write
                                           ``block.events_out``; never raises,
                                           never compiles, does no I/O, takes
                                           no lock, allocates nothing per event
- ``reset``                [audio thread]  forget sounding notes and pending
                                           events, keep parameters
- ``state``                [any thread]    a small dict for status displays

A block of 0 frames is valid: processors then emit only what is due "now"
(frame 0) or nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .events import EventList


@dataclass(eq=False)
class Block:
    """What a processor sees of one audio block (reused from block to block).

    ``start_beat`` and ``beats_per_frame`` map a frame offset f to the beat
    ``start_beat + f * beats_per_frame`` (one tempo inside a block: the
    engine splits blocks at tempo changes and loop ends).
    """

    frames: int = 0
    sample_rate: float = 48000.0
    start_beat: float = 0.0
    beats_per_frame: float = 0.0
    playing: bool = False
    events_in: EventList = field(default_factory=EventList)
    events_out: EventList = field(default_factory=EventList)
    audio: np.ndarray | None = None  # (channels, frames) float32 or None

    @property
    def end_beat(self) -> float:
        return self.start_beat + self.frames * self.beats_per_frame

    def frame_of(self, beat: float) -> int:
        """Frame offset of a beat inside this block, clipped to the block."""
        if self.beats_per_frame <= 0.0 or self.frames == 0:
            return 0
        f = int((beat - self.start_beat) / self.beats_per_frame)
        return min(max(f, 0), self.frames - 1)


class Processor:
    """Base class of every processor; subclasses override what they need.

    Class attributes
    ----------------
    name : str
        The name a rack file uses for it.
    timing : bool
        True for processors that move events in time (groove, quantize,
        humanize): on a timeline the scheduler folds their ``pre_map`` into
        each note's position before the groove; live they delay events.
    """

    name = "processor"
    timing = False

    def __init__(self):
        self.bypass = False
        self.sample_rate = 0.0
        self.max_block = 0

    def prepare(self, sample_rate: float, max_block: int) -> None:  # [main thread]
        self.sample_rate = float(sample_rate)
        self.max_block = int(max_block)

    def process(self, block: Block) -> None:  # [audio thread]
        block.events_out.extend(block.events_in.view(), presorted=True)

    def reset(self) -> None:  # [audio thread]
        pass

    def state(self) -> dict:  # [any thread]
        return {"name": self.name, "bypass": self.bypass}

    def params(self) -> dict:  # [main thread] for rack files and status
        return {}


class Rack:
    """Processors run in order, each reading what the one before wrote.

    Parameters
    ----------
    processors : list of Processor
    capacity : int
        Events one block may carry between two processors.
    """

    def __init__(self, processors=(), capacity: int = 4096):
        self.processors = list(processors)
        for i, p in enumerate(self.processors):
            if not isinstance(p, Processor):
                raise TypeError(f"rack[{i}]: {p!r} is not a Processor")
        self._lists = (EventList(capacity), EventList(capacity))
        self.block = Block()
        self.reset_errors = 0

    def prepare(self, sample_rate: float, max_block: int) -> None:  # [main thread]
        for p in self.processors:
            p.prepare(sample_rate, max_block)
        self.block.sample_rate = float(sample_rate)

    def find(self, cls):
        """The first processor of the given class (not bypassed), or None."""
        for p in self.processors:
            if isinstance(p, cls) and not p.bypass:
                return p
        return None

    def process(self, block: Block) -> EventList:  # [audio thread]
        """Run the chain on ``block.events_in``; returns the list holding the result."""
        src = block.events_in
        a, b = self._lists
        for p in self.processors:
            if p.bypass:
                continue
            dst = a if src is not a else b
            dst.clear()
            block.events_in, block.events_out = src, dst
            p.process(block)
            src = dst
        return src

    def reset(self) -> None:  # [audio thread]
        """Reset every processor; one that raises is counted, the others still reset.

        A panic runs this before it sends its note-offs: a raising ``reset``
        must not stop them.
        """
        for p in self.processors:
            try:
                p.reset()
            except Exception:
                self.reset_errors += 1

    def state(self) -> list:
        return [p.state() for p in self.processors]
