"""Wall-clock timing for the portaudio backend (rtmidi has no frame offsets).

* :class:`InputClock`: arrival times of MIDI input from rtmidi's delta
  timestamps, anchored to ``perf_counter``;
* :class:`BlockClock`: the audio callbacks' times smoothed by a delay-locked
  loop, so a late callback does not shift the frames of the events around it;
* :func:`try_realtime`: real-time scheduling for the sender thread.
"""

from __future__ import annotations

#: A callback further than this from where the loop expects it resets the loop.
DLL_RESET_SEC = 0.02
DLL_GAIN = 0.05


class InputClock:
    """Arrival times from rtmidi's delta timestamps, anchored to ``perf_counter``.

    rtmidi stamps each message in its own thread before Python sees it; the
    running sum of its deltas is exact relative time, and the smallest
    ``stamp - sum`` seen is the anchor (a stamp taken late, e.g. while
    waiting for the GIL, only ever makes the difference larger).  The anchor
    creeps forward by ``CREEP`` seconds per second so that a slow drift
    between the two clocks is followed.
    """

    CREEP = 1e-4

    def __init__(self):
        self.sum_sec = 0.0
        self.anchor_sec = None
        self._last_stamp = None

    def arrival(self, stamp_sec: float, delta_sec: float) -> float:
        """The arrival time of a message stamped ``stamp_sec`` by us, ``delta_sec`` by rtmidi."""
        self.sum_sec += delta_sec
        offset = stamp_sec - self.sum_sec
        if self.anchor_sec is None or delta_sec > 1.0:
            self.anchor_sec = offset  # first message, or after a long pause: start afresh
        else:
            self.anchor_sec = min(
                self.anchor_sec + self.CREEP * (stamp_sec - self._last_stamp), offset
            )
        self._last_stamp = stamp_sec
        return self.anchor_sec + self.sum_sec


class BlockClock:
    """Smoothed wall-clock times of consecutive audio callbacks (a simple DLL)."""

    def __init__(self, sample_rate: float):
        self.sample_rate = sample_rate
        self.time_sec = None

    def update(self, now_sec: float, frames_before: int) -> float:
        """The smoothed time of this callback; ``frames_before`` = last block's size."""
        if self.time_sec is None:
            self.time_sec = now_sec
            return now_sec
        predicted = self.time_sec + frames_before / self.sample_rate
        err = now_sec - predicted
        self.time_sec = now_sec if abs(err) > DLL_RESET_SEC else predicted + DLL_GAIN * err
        return self.time_sec


def try_realtime():
    """Ask for real-time scheduling of the calling thread (Linux; ignored if refused).

    The sender's timing is the output's timing; under load a normal thread
    wakes milliseconds late.  Priority 5 stays below JACK's own threads.
    """
    try:
        import os

        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(5))
    except (AttributeError, OSError, PermissionError):
        pass
