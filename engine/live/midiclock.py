"""MIDI clock: follow a master's 24-ppq clock, or be the master.

Pure Python, no I/O: times are sample frames (floats are fine, so a backend
without frame offsets can pass ``seconds * sample_rate``).

Following (:class:`ClockFollower`):

* the tempo is a least-squares line through the last 24 clocks (one beat),
  so jitter averages out and a tempo change is fully followed one beat
  later; three intervals in a row that disagree with the line by more than
  8 % in the same direction cut the window to them, so a jump is followed
  within a few clocks rather than a beat;
* the position is the song position of the last clock plus the time since
  that clock's place on the line, divided by the period, capped one clock
  ahead (the position never runs past a clock that has not arrived yet);
* Start sets the position to 0 at the next clock (the MIDI spec: the slave
  starts on the first clock after Start), Continue resumes at the next clock,
  Stop freezes the position, Song Position Pointer (while stopped) sets where
  the next clock lands, in sixteenths (6 clocks each).

Sending (:class:`ClockSender`): clocks at the frames where the transport
crosses each 1/24 beat, Start at beat 0, Song Position Pointer + Continue
when playback resumes elsewhere, Stop when it stops.
"""

from __future__ import annotations

import math

CLOCK, START, CONTINUE, STOP, SONG_POSITION = 0xF8, 0xFA, 0xFB, 0xFC, 0xF2
CLOCKS_PER_BEAT = 24
CLOCKS_PER_SIXTEENTH = 6
#: One beat of clocks: a tempo change is fully followed after this many.
WINDOW_CLOCKS = 24
#: Relative disagreement with the fitted period that counts as a tempo jump.
JUMP_RATIO = 0.08
#: Consecutive disagreeing intervals that trigger the jump rule.
JUMP_CLOCKS = 3
#: An interval this many periods long means the clock had stopped: start afresh.
GAP_PERIODS = 4.0
MIN_BPM, MAX_BPM = 1.0, 999.0


def is_clock_message(status: int) -> bool:
    """True for the messages :meth:`ClockFollower.feed` consumes."""
    return status in (CLOCK, START, CONTINUE, STOP, SONG_POSITION)


def song_position_bytes(sixteenths: int) -> bytes:
    """The 3-byte Song Position Pointer message (position in sixteenths)."""
    s = max(0, min(int(sixteenths), 0x3FFF))
    return bytes((SONG_POSITION, s & 0x7F, s >> 7))


class TempoEstimator:
    """Clock period (frames per clock) from a sliding least-squares fit.

    Parameters
    ----------
    default_frames_per_clock : float
        The period used until two clocks have arrived.
    window : int
        Most recent clocks the line is fitted through.
    """

    def __init__(self, default_frames_per_clock: float, window: int = WINDOW_CLOCKS):
        if not default_frames_per_clock > 0:
            raise ValueError(f"default_frames_per_clock: {default_frames_per_clock!r} must be > 0")
        self.default_frames_per_clock = float(default_frames_per_clock)
        self.window = int(window)
        self._times = []  # frames of the clocks in the window, oldest first
        self._disagree = 0  # signed count of consecutive disagreeing intervals
        self.period_frame = self.default_frames_per_clock
        self._intercept = 0.0  # fitted frame of the newest clock

    def reset(self) -> None:
        """Forget all clocks (keeps the last period as the guess)."""
        self._times.clear()
        self._disagree = 0

    def add(self, frame: float) -> None:
        """Take one clock at ``frame`` (non-decreasing)."""
        times = self._times
        if times:
            interval = frame - times[-1]
            if interval > GAP_PERIODS * self.period_frame or interval <= 0:
                times.clear()
                self._disagree = 0
            else:
                self._check_jump(interval)
        times.append(float(frame))
        if len(times) > self.window:
            del times[0]
        self._fit()

    def _check_jump(self, interval: float) -> None:
        ratio = interval / self.period_frame - 1.0
        if abs(ratio) <= JUMP_RATIO:
            self._disagree = 0
            return
        step = 1 if ratio > 0 else -1
        self._disagree = self._disagree + step if self._disagree * step > 0 else step
        if abs(self._disagree) >= JUMP_CLOCKS:
            # Keep only the clocks after the jump: they alone describe the new tempo.
            del self._times[:-JUMP_CLOCKS]
            self._disagree = 0

    def _fit(self) -> None:
        times = self._times
        n = len(times)
        if n < 2:
            self._intercept = times[-1] if times else 0.0
            return
        t0 = times[0]
        mean_x = (n - 1) / 2.0
        mean_y = sum(t - t0 for t in times) / n
        sxy = sum((i - mean_x) * (t - t0 - mean_y) for i, t in enumerate(times))
        sxx = n * (n * n - 1) / 12.0
        slope = sxy / sxx
        if slope <= 0:
            return
        self.period_frame = slope
        self._intercept = t0 + mean_y + slope * (n - 1 - mean_x)

    @property
    def clocks(self) -> int:
        """Clocks in the window."""
        return len(self._times)

    @property
    def last_fitted_frame(self) -> float:
        """Where the fitted line puts the newest clock (its jitter removed)."""
        return self._intercept


class ClockFollower:
    """Transport state and position of a MIDI clock master.

    Parameters
    ----------
    sample_rate : float
        Frames per second of the times passed to :meth:`feed`.
    default_bpm : float
        Tempo assumed until clocks arrive.
    """

    def __init__(self, sample_rate: float, default_bpm: float = 120.0):
        if not sample_rate > 0:
            raise ValueError(f"sample_rate: {sample_rate!r} must be > 0")
        if not MIN_BPM <= default_bpm <= MAX_BPM:
            raise ValueError(f"default_bpm: {default_bpm!r} is outside [{MIN_BPM:g}, {MAX_BPM:g}]")
        self.sample_rate = float(sample_rate)
        self.tempo = TempoEstimator(self.frames_per_clock_at(default_bpm))
        self.running = False
        self.next_tick = 0  # song position (clocks) the next clock will carry
        self.last_tick = -1  # song position of the last clock while running
        self.last_frame = math.nan  # frame of that clock
        self.started = False  # Start/Continue seen and its first clock arrived
        self._armed = "start"  # what the first clock after Start/Continue reports

    def frames_per_clock_at(self, bpm: float) -> float:
        """Clock period in frames at a tempo."""
        return self.sample_rate * 60.0 / (bpm * CLOCKS_PER_BEAT)

    def feed(self, frame: float, data) -> str | None:
        """Take one message; returns what it did to the transport.

        Returns ``"start"``/``"continue"`` on the first clock after Start or
        Continue (the moment the position starts moving), ``"stop"`` on
        Stop, ``"seek"`` on a Song Position Pointer, ``"tick"`` on other
        clocks, and None for anything else.
        """
        status = data[0]
        if status == CLOCK:
            return self._clock(frame)
        if status == START:
            self.next_tick, self.running, self.started = 0, True, False
            self._armed = "start"
        elif status == CONTINUE:
            self.running, self.started = True, False
            self._armed = "continue"
        elif status == STOP:
            self.running = False
            return "stop"
        elif status == SONG_POSITION and len(data) >= 3:
            self.next_tick = ((data[1] & 0x7F) | ((data[2] & 0x7F) << 7)) * CLOCKS_PER_SIXTEENTH
            self.started = False
            return "seek"
        return None

    def _clock(self, frame: float) -> str:
        self.tempo.add(frame)
        if not self.running:
            return "tick"
        self.last_tick, self.last_frame = self.next_tick, float(frame)
        self.next_tick += 1
        if not self.started:
            self.started = True
            return self._armed
        return "tick"

    @property
    def bpm(self) -> float:
        """The estimated tempo in beats per minute."""
        return self.sample_rate * 60.0 / (self.tempo.period_frame * CLOCKS_PER_BEAT)

    @property
    def frames_per_beat(self) -> float:
        """The estimated beat length in frames."""
        return self.tempo.period_frame * CLOCKS_PER_BEAT

    def position_beat(self, frame: float, cap: bool = True) -> float:
        """The song position at ``frame`` in beats, interpolated between clocks.

        Stopped, or before the first clock after Start/Continue, this is
        where the next clock will land; with ``cap`` the position stops one
        clock past the last.
        """
        if not (self.running and self.started):
            return max(self.next_tick, 0) / CLOCKS_PER_BEAT
        period = self.tempo.period_frame
        anchor = self.last_frame
        if self.tempo.clocks >= 2 and abs(self.tempo.last_fitted_frame - anchor) < period:
            anchor = self.tempo.last_fitted_frame
        ticks = (frame - anchor) / period
        if cap:
            ticks = min(ticks, 1.0)
        return (self.last_tick + ticks) / CLOCKS_PER_BEAT


class ClockSender:
    """MIDI clock master: the messages a transport's block should send.

    Each clock goes out in the block whose beat range [start, end) holds its
    beat, at the nearest frame, so consecutive blocks never repeat or skip
    one.  A jump of the transport while playing is sent as Stop, Song
    Position Pointer, Continue (the pointer only has sixteenth resolution, so
    clocks resume at the next sixteenth).
    """

    def __init__(self):
        self.was_playing = False
        self.next_tick = 0
        self.expect_beat = math.nan

    def block(
        self, playing: bool, beat_start: float, beats_per_frame: float, frames: int, out: list
    ) -> None:
        """Append ``(frame, bytes)`` messages for one block to ``out``.

        Parameters
        ----------
        playing : bool
            Transport state during the block.
        beat_start : float
            Transport position at frame 0 of the block.
        beats_per_frame : float
            Tempo during the block.
        frames : int
            Block length.
        out : list
            Receives (frame, message bytes) pairs in frame order.
        """
        if not playing:
            if self.was_playing:
                out.append((0, bytes((STOP,))))
            self.was_playing = False
            return
        if not self.was_playing:
            self._start(beat_start, beats_per_frame, out)
        elif abs(beat_start - self.expect_beat) > 1e-6:
            out.append((0, bytes((STOP,))))
            self._start(beat_start, beats_per_frame, out)
        self.was_playing = True
        beat_end = beat_start + frames * beats_per_frame
        self.expect_beat = beat_end
        tick = self.next_tick
        while tick / CLOCKS_PER_BEAT < beat_end - 1e-12:
            frame = round((tick / CLOCKS_PER_BEAT - beat_start) / beats_per_frame)
            out.append((min(max(frame, 0), frames - 1), bytes((CLOCK,))))
            tick += 1
        self.next_tick = tick

    def _start(self, beat_start: float, beats_per_frame: float, out: list) -> None:
        if beat_start <= 1e-9:
            # Start goes where beat 0 is (it may be inside the block).
            frame = max(0, round(-beat_start / beats_per_frame))
            out.append((frame, bytes((START,))))
            self.next_tick = 0
            return
        sixteenths = math.ceil(beat_start * 4 - 1e-9)
        out.append((0, song_position_bytes(sixteenths)))
        out.append((0, bytes((CONTINUE,))))
        self.next_tick = sixteenths * CLOCKS_PER_SIXTEENTH
