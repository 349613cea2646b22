"""An example third-party processor: repeats each note a number of beats later.

Install it next to groove (``pip install ./examples/plugin``) and a rack file
can name it::

    - processor: echo
      delay_beat: 0.5
      feedback: 0.6
"""

import numpy as np

from engine.host.delay import DelayProcessor
from engine.host.events import NOTE_OFF, NOTE_ON


class Echo(DelayProcessor):
    """Each note-on and note-off again ``delay_beat`` later, velocity times ``feedback``."""

    name = "echo"

    def __init__(self, delay_beat=0.5, feedback=0.6):
        super().__init__(latency_ms=0)
        if not 0.0 < delay_beat <= 16.0:
            raise ValueError(f"delay_beat: {delay_beat!r} is outside (0, 16]")
        if not 0.0 < feedback <= 1.0:
            raise ValueError(f"feedback: {feedback!r} is outside (0, 1]")
        self.delay_beat, self.feedback = float(delay_beat), float(feedback)

    def process(self, block):
        # The dry events pass straight through; a quieter copy is queued to
        # come back delay_beat later (DelayProcessor holds and releases it).
        ev = block.events_in.view()
        block.events_out.extend(ev)
        if block.playing and block.beats_per_frame > 0.0:
            notes = ev[(ev["kind"] == NOTE_ON) | (ev["kind"] == NOTE_OFF)]
            on = notes["kind"] == NOTE_ON
            notes["value"][on] = np.maximum(1, np.rint(notes["value"][on] * self.feedback))
            if notes.shape[0]:
                self._enqueue(notes, block)
        self._release(block, block.events_out)

    def map_beats(self, beats, events):
        return beats + self.delay_beat

    def params(self):
        return dict(delay_beat=self.delay_beat, feedback=self.feedback)
