"""The live rack as one compiled kernel, and how the main thread talks to it.

Real-time design
----------------
**One kernel per block.**  Live, the whole rack (quantize, humanize, groove,
velocity, filter, transpose), the delay line, the transport with its loop,
the timeline scheduler, MIDI clock in and out and the click run as one
numba function, ``process_block``, called once per audio block.  It works
on two preallocated arrays, ``istate`` (int64) and ``fstate`` (float64),
laid out by ``engine.host.live_layout``: pending events, sounding notes,
transport, clock follower, counters, rings, and two banks of tables.  It
never allocates, never raises (anything wrong becomes a counter) and never
compiles: ``LiveKernel.prepare`` compiles (or loads from numba's cache)
everything it can reach.  A backend calls it with the GIL released: the
JACK backend from a C callback made with numba's ``cfunc``, so no Python
runs in JACK's process thread; the PortAudio backend as a ``nogil`` call.

**Timing on beats, one output frame.**  An event arriving at frame f is at
beat t on the transport.  Timing stages compose on beats, in rack order
(``t -> quantize -> humanize -> groove``), and the output frame is computed
once, at the end: ``f + (T(h(q(t))) - t) * frames_per_beat + L``.  A note
moves whole: its note-off gets the note-on's quantize shift and random
offset (quantize moves starts only, so lengths are kept) and then the
groove (or the note-on's groove move, with ``ends="keep"``); it is never
due before its note-on, and a note-on that finds its key still sounding
from a note already released by the player (or played after it: random
offsets swapped them) ends that note first, so a late note-off can never
cut a new note; notes the player overlapped on one key pass as played.
Straight groove and no processors: the output is the input, byte for byte
and frame for frame.  Note-offs without a note-on, and everything the rack
does not own, pass through.

**Fixed latency.**  L (``latency_frame``) is fixed for the session: the
``latency_ms`` asked for, or the largest early move reachable with the
loaded rack at its largest reachable amounts (a CC-driven timing at CC
127, quantize at full), plus humanize's, whose offsets are bounded at
``CLIP_SIGMA`` standard deviations (the renderer's distribution, so live
and offline agree).  Groove and quantize moves are fixed in beats, so
they take longer as the tempo slows: L is computed at the slowest tempo
the session expects (``latency_bpm``: the internal clock's ``bpm``, or
``min_bpm``, default ``DEFAULT_MIN_BPM``, when following MIDI clock).
A reload (or a slower tempo) that would need more is accepted; its early
moves beyond L go out at once and count as late, and ``poll()`` reports the
``--latency-ms`` it needs.  (L gets one frame more than the largest move:
output frames are floored.)  Events never reorder across a reload or a
parameter change: nothing queued after a change goes out before what was
queued before it.  Between changes every map is monotone, so quantize and
the groove never swap two notes of a lane; only humanize's random offsets
and different lanes' curves move notes past each other, as offline.
Controllers and pitch bend get the groove's main lane only (no quantize,
no random offset), so a smooth bend stays smooth; a note-off nobody owns
passes untouched (but for L).

**Rings, not locks.**  The main thread and the audio thread share
single-producer single-consumer rings inside ``istate`` (``engine.host.ring``):
commands go in (stop, start, continue, seek, panic, quit, param, tempo,
loop, swap), acknowledgements and CC values for the main thread come out.
CC-mapped timing, quantize and velocity change inside the kernel at the
CC's frame; blend weights go out to the main thread, which rebuilds the
groove.

**Table swap.**  A preset or rack reload is parsed, validated and written
on the main thread into the inactive bank; a ``swap`` command names it, and
the audio thread flips at a block boundary and acknowledges.  The main
thread writes that bank again only after the acknowledgement, so the audio
thread never reads a half-written table.  CC-driven amounts live outside
the banks and survive reloads.

**Capacities.**  A MIDI effect must never drop a message or hang a note,
and numba checks no bounds, so every table has a rule for when it is full
(each counted in ``poll()``):

* the note table (``MAX_NOTES`` notes waiting for their note-off): a
  note-on finding it full takes the slot of the oldest held note of the
  same input key (a retrigger with no note-off between, as JACK's latency
  tester sends: ``reused``); the earlier note keeps sounding until a later
  note-off of the key (passed as an orphan) or a panic ends it.  With no
  such note, the note-on passes untimed at arrival + L (``untreated``),
  through the same stages as its note-off, which passes as an orphan;
* the delay line (``MAX_PENDING`` events): before an event enters a full
  one, its earliest entry goes out at once (``forced``), so the stream
  keeps its order and only that entry's timing suffers;
* the output rows (the caller's ``out_ev``): the delay line sends what
  fits, earliest first, and keeps the rest for the next block
  (``deferred``), with ``OUT_RESERVE`` rows kept for a panic's pedal-ups
  and All Notes Off (a panic past that sends All Notes Off for the notes
  it has no room to end one by one);
* ``n_in`` is clipped to ``in_ev``'s rows, data bytes are masked to 7 bits
  before they index a table; the command ring refuses a command when
  full (the main thread raises), blend-weight CCs keep their latest value
  per weight in slots (``I_WEIGHTS``: a knob swept between two polls loses
  nothing that matters), and a swap is acknowledged in a slot as well as
  the ring;
* a held note whose tables were swapped before its note-off keeps its
  played length (its per-stage values belong to the old stages), and a
  lane is clamped to its stage's lanes before it indexes a table;
* a panic sends the pedal-ups and All Notes Off before the per-note
  note-offs, so a caller whose port holds fewer rows (JACK's MIDI buffer)
  cuts only redundant note-offs (the JACK backend carries them over);
* the clock sender never sends a false Song Position (past beat 4096 it
  sends Continue alone) nor a tick before its segment (no burst).

**Stop, seek, panic, quit.**  Pending controller changes are sent, every
note sounding at the output gets its note-off, the sustain pedal is
released (CC 64 = 0) on channels that used it, then All Notes Off.

**Transport, loops, timeline, clock.**  The transport is an integer frame
anchor and a beat; a loop wrap moves the anchor to the loop start at the
first frame whose beat reaches the loop end, so a timeline (scheduled
ahead through the groove, not delayed by L) plays every row in the loop
once per pass and nothing at or after its end, while live input, queued in
absolute frames, is never stranded by a wrap.  With ``sync="midi"`` live
input takes its beat from the clock follower at its own frame (a note on a
clock lands on that clock's grooved beat) and the transport is steered to
the follower's fitted line at each block end.  Incoming clock, Start,
Continue, Stop and Song Position drive the transport and are not passed
on (downstream follows groove's own clock, ``send_clock``: passing the
master's too would double it); active sensing and reset pass at once.

**numba's cache.**  ``_lk_options`` stamps every kernel function's cache
entry with all kernel files, so editing one recompiles the lot (numba
alone only checks a function's own file, and ``process_block`` compiles in
its callees).
"""

from __future__ import annotations

import numpy as np

from groove.transform import CLIP_SIGMA

from . import _lk_block
from . import live_layout as L
from ._lk_bank import NotCompilable, early_ms_total, latency_frames, write_bank
from ._lk_status import counters, new_weights, param_id, param_name
from ._lk_warmup import warmup_block
from .ring import pop_all, ring_init, ring_publish, ring_reserve

process_block = _lk_block.process_block

__all__ = ["LiveKernel", "NotCompilable", "process_block", "warmup_block"]

#: Under ``sync="midi"`` L is set for this tempo and faster unless ``min_bpm`` says otherwise:
#: the early moves of a groove grow as the tempo slows (they are fixed in beats).
DEFAULT_MIN_BPM = 60.0


def _check_bpm(bpm):
    if not (isinstance(bpm, (int, float)) and 1.0 <= bpm <= 999.0):
        raise ValueError(f"bpm: {bpm!r} is outside 1 .. 999")


def _click_waves(sample_rate):
    """The metronome's two decaying sines (as ``engine.live.backends.click``)."""
    n = min(max(1, int(0.03 * sample_rate)), L.CLICK_MAX)
    t = np.arange(n) / sample_rate
    env = np.exp(-t / (0.03 / 5)) * 0.5
    return np.sin(2 * np.pi * 1760.0 * t) * env, np.sin(2 * np.pi * 1320.0 * t) * env * 0.6


class LiveKernel:
    """State arrays and main-thread controls of one live session's kernel.

    Build with :meth:`build`; see the module docstring for the design and
    ``/tmp/issues/IFACE11.md`` (the contract with the backends).
    """

    def __init__(self, istate, fstate, *, sample_rate, bpm, rack, cc_params, ends, timeline):
        self.istate, self.fstate = istate, fstate
        self.sample_rate, self.bpm = float(sample_rate), float(bpm)
        self.rack, self.cc_params, self.ends, self.timeline = rack, cc_params, ends, timeline
        self.latency_frame = int(istate[L.I_LATENCY_FRAME])
        self.latency_bpm = float(bpm)  # the slowest tempo L covers (set by build)
        self.cfg_latency_ms = None  # the latency asked for (None: computed)
        self.generation = 0
        self._pending_swap = None  # (generation, bank) sent, not yet acknowledged
        self._queued = None  # a reload waiting for the previous swap's ack
        self.needs_ms = 0.0  # latency the loaded banks need (static estimate)
        self.cc_values = []  # (param name, 0..127) for the main thread to apply
        self._weight_counts = np.zeros(L.MAX_WEIGHTS, np.int64)
        self.real_time_safe = True

    # -- construction (main thread) -------------------------------------------
    @classmethod
    def build(
        cls,
        rack,
        *,
        sample_rate,
        max_block,
        latency_ms=None,
        bpm=120.0,
        sync="internal",
        send_clock=False,
        cc_map=None,
        timeline=None,
        click=False,
        ends="groove",
        beats_per_bar=4,
        min_bpm=None,
    ):
        """Compile a rack into kernel state; raises NotCompilable for Python processors.

        L is computed for the slowest tempo the session expects (``latency_bpm``):
        ``bpm`` with the internal clock, ``min_bpm`` (default ``DEFAULT_MIN_BPM``)
        following MIDI clock; a ``min_bpm`` below ``bpm`` lowers it with the
        internal clock too.  Slower than that, early moves beyond L go out late
        (counted; ``poll()["needs_latency_ms"]`` says what would cover them).
        """
        if sync not in ("internal", "midi"):
            raise ValueError(f"sync: {sync!r} is not one of internal, midi")
        if latency_ms is not None and not 0.0 <= latency_ms <= 2000.0:
            raise ValueError(f"latency_ms: {latency_ms!r} is outside 0 .. 2000")
        _check_bpm(bpm)
        if min_bpm is not None:
            _check_bpm(min_bpm)
        if sync == "midi":
            latency_bpm = DEFAULT_MIN_BPM if min_bpm is None else float(min_bpm)
        else:
            latency_bpm = float(bpm) if min_bpm is None else float(min(bpm, min_bpm))
        if not (isinstance(beats_per_bar, int) and 1 <= beats_per_bar <= 64):
            raise ValueError(f"beats_per_bar: {beats_per_bar!r} is outside 1 .. 64")
        if not 1000 <= sample_rate <= 768000:
            raise ValueError(f"sample_rate: {sample_rate!r} is outside 1000 .. 768000 Hz")
        cc_map = {int(k): v for k, v in (cc_map or {}).items()}
        cc_params = set(cc_map.values())
        bank, info = write_bank(
            rack, cc_params=cc_params, ends=ends, timeline=timeline, clip_sigma=CLIP_SIGMA
        )
        bank_size = max(4 * bank.shape[0], 1 << 15)
        n_tl = len(timeline) if timeline is not None else 0
        istate = np.zeros(L.I_FIXED_END + n_tl * L.TL_IW, np.int64)
        tl_fbase = L.F_FIXED_END
        bank0 = tl_fbase + n_tl + L.KEYS
        fstate = np.zeros(bank0 + 2 * bank_size, np.float64)
        need_ms = early_ms_total(info, latency_bpm)
        lat_ms = need_ms if latency_ms is None else float(latency_ms)
        istate[L.I_MAGIC] = L.MAGIC
        lat = latency_frames(lat_ms, sample_rate)
        if latency_ms is None and lat > 0:
            lat += 1  # an output frame is floored: the largest early move may round one further
        istate[L.I_LATENCY_FRAME] = lat
        istate[L.I_SYNC_MIDI] = sync == "midi"
        istate[L.I_SEND_CLOCK] = bool(send_clock)
        istate[L.I_CLICK] = bool(click)
        istate[L.I_BEATS_PER_BAR] = beats_per_bar
        ring_init(istate, L.I_CMD_RING, L.CMD_CAP, L.CMD_WIDTH)
        ring_init(istate, L.I_OUT_RING, L.OUT_CAP, L.OUT_WIDTH)
        istate[L.I_OUT_OWNER : L.I_OUT_OWNER + L.KEYS] = -1
        istate[L.I_TL_OWNER : L.I_TL_OWNER + L.KEYS] = -1
        for cc, name in cc_map.items():
            istate[L.I_CC_PARAM + cc] = param_id(name) + 1
        istate[L.I_CLICK_POS] = -1
        accent, beat = _click_waves(sample_rate)
        istate[L.I_CLICK_N] = accent.shape[0]
        fstate[L.F_CLICK : L.F_CLICK + accent.shape[0]] = accent
        fstate[L.F_CLICK + L.CLICK_MAX : L.F_CLICK + L.CLICK_MAX + beat.shape[0]] = beat
        fstate[L.F_SAMPLE_RATE], fstate[L.F_BPM] = sample_rate, bpm
        period = sample_rate * 60.0 / (bpm * 24)
        fstate[L.F_CF_PERIOD] = fstate[L.F_CF_DEFAULT_PERIOD] = period
        fstate[L.F_CLIP_SIGMA] = CLIP_SIGMA
        fstate[L.F_WINDOW_BEAT] = info.window_beat
        fstate[L.F_BANK_BASE], fstate[L.F_BANK_BASE + 1] = bank0, bank0 + bank_size
        fstate[L.F_BANK_SIZE] = bank_size
        fstate[bank0 : bank0 + bank.shape[0]] = bank
        if n_tl:
            istate[L.I_TL_N], istate[L.I_TL_BASE] = n_tl, L.I_FIXED_END
            istate[L.I_TL_FBASE] = tl_fbase
            rows = istate[L.I_FIXED_END :].reshape(n_tl, L.TL_IW)
            rows[:, 0] = timeline.kind | timeline.channel
            rows[:, 1], rows[:, 2] = timeline.key, timeline.value
            fstate[tl_fbase : tl_fbase + n_tl] = timeline.src_beat
            fstate[tl_fbase + n_tl : tl_fbase + n_tl + L.KEYS] = np.inf
        kern = cls(
            istate,
            fstate,
            sample_rate=sample_rate,
            bpm=bpm,
            rack=rack,
            cc_params=cc_params,
            ends=ends,
            timeline=timeline,
        )
        kern.max_block = int(max_block)
        kern.latency_bpm = latency_bpm
        kern.cfg_latency_ms = latency_ms
        kern.needs_ms = need_ms
        return kern

    def prepare(self) -> None:
        """Compile (or load from the cache) everything the audio thread can reach.

        One block with every kind of row and command runs on a copy of the
        state: numba compiles a function with all it calls, and the copy
        leaves the session's state untouched.
        """
        ist, fst = self.istate.copy(), self.fstate.copy()
        ring_init(ist, L.I_CMD_RING, L.CMD_CAP, L.CMD_WIDTH)
        n = warmup_block(ist, fst, self.max_block)
        del n
        ring_reserve(self.istate, L.I_CMD_RING)  # the main thread's ring calls
        pop_all(ist, L.I_OUT_RING)

    # -- main thread -> audio thread ---------------------------------------------
    def command(self, name, *values) -> None:
        """Queue a command for the next block: stop, start, continue, seek BEAT, panic, quit,
        param NAME VALUE, tempo BPM, loop START END (END <= START: no loop)."""
        if name not in L.COMMANDS:
            raise ValueError(f"command: {name!r} is not one of {', '.join(L.COMMANDS)}")
        code = L.COMMANDS[name]
        iarg, args = 0, list(values)
        if code == L.CMD_PARAM:
            iarg, args = param_id(values[0]), [float(values[1])]
        elif code == L.CMD_TEMPO:
            _check_bpm(values[0])
        want = {L.CMD_SEEK: 1, L.CMD_TEMPO: 1, L.CMD_LOOP: 2, L.CMD_PARAM: 1}.get(code, 0)
        if len(args) != want:
            raise ValueError(f"{name}: takes {want} value(s), got {values!r}")
        if not all(np.isfinite(float(v)) for v in args):
            raise ValueError(f"{name}: {values!r} must be finite numbers")
        self._push(code, iarg, *[float(v) for v in args])

    def _push(self, code, iarg=0, a0=0.0, a1=0.0):
        ist = self.istate
        at = ring_reserve(ist, L.I_CMD_RING)
        if at < 0:
            raise RuntimeError(
                "live kernel: the command ring is full (is the audio thread running?)"
            )
        slot = int(ist[L.I_CMD_RING]) % L.CMD_CAP
        self.fstate[L.F_CMD_ARG + 2 * slot] = a0
        self.fstate[L.F_CMD_ARG + 2 * slot + 1] = a1
        ist[at], ist[at + 1] = code, iarg
        ring_publish(ist, L.I_CMD_RING)

    def load_groove(self, preset, amounts=None) -> None:
        """Swap in another preset (and amounts) for the rack's groove at a block boundary."""
        from .processors import GrooveProcessor

        rack = self.rack
        gp = rack.find(GrooveProcessor)
        if gp is None:
            raise ValueError("the rack has no groove processor to change")
        gp.set(preset, amounts)
        gp.current, gp._next = gp._next, None
        self.load_rack(rack)

    def load_rack(self, rack) -> None:
        """Swap in another rack (validated here; NotCompilable for Python processors)."""
        bank, info = write_bank(
            rack,
            cc_params=self.cc_params,
            ends=self.ends,
            timeline=self.timeline,
            clip_sigma=CLIP_SIGMA,
        )
        if bank.shape[0] > self.fstate[L.F_BANK_SIZE]:
            raise ValueError(
                f"rack: its tables ({bank.shape[0]} values) outgrow the live kernel's bank "
                f"({int(self.fstate[L.F_BANK_SIZE])}); restart groove live to load it"
            )
        self.rack = rack
        self.needs_ms = max(self.needs_ms, early_ms_total(info, self.latency_bpm))
        self._queued = (bank, info)
        self._flush_reload()

    def _flush_reload(self):
        if self._queued is None or self._pending_swap is not None:
            return
        bank, info = self._queued
        self._queued = None
        target = 1 - int(self.istate[L.I_ACTIVE_BANK])
        base = int(self.fstate[L.F_BANK_BASE + target])
        self.fstate[base : base + bank.shape[0]] = bank
        self.fstate[L.F_WINDOW_BEAT] = max(self.fstate[L.F_WINDOW_BEAT], info.window_beat)
        self.generation += 1
        self._pending_swap = (self.generation, target)
        self._push(L.CMD_SWAP, self.generation, float(target))

    # -- audio thread -> main thread ---------------------------------------------
    def poll(self) -> dict:
        """Counters, acknowledgements and CC values from the audio thread (main thread)."""
        for what, a, b in pop_all(self.istate, L.I_OUT_RING):
            if what == L.OUT_CC:
                self.cc_values.append((param_name(a), b))
        self.cc_values.extend(new_weights(self.istate, self._weight_counts))
        # The ack is also a slot (I_SWAP_ACK), so a full out ring cannot lose it.
        if self._pending_swap and int(self.istate[L.I_SWAP_ACK]) >= self._pending_swap[0]:
            self._pending_swap = None
        self._flush_reload()
        return counters(
            self.istate,
            latency_frame=self.latency_frame,
            sample_rate=self.sample_rate,
            needs_ms=self.needs_ms,
            swap_pending=self._pending_swap is not None or self._queued is not None,
        )

    @property
    def quit_done(self) -> bool:
        """The audio thread has sent the final panic (after ``command("quit")``)."""
        return bool(self.istate[L.I_QUIT_DONE])

    def transport_view(self):
        """(playing, beat at the last block, beats per frame) for the status line."""
        from ._lk_clock import follower_beats_per_frame
        from ._lk_transport import beat_at, beats_per_frame

        ist, fst = self.istate, self.fstate
        playing = bool(ist[L.I_PLAYING])
        bpf = beats_per_frame(fst)
        if ist[L.I_SYNC_MIDI] and not playing and ist[L.I_CF_N] >= 2:
            bpf = follower_beats_per_frame(fst)  # stopped: the tempo the clocks give
        return playing, float(beat_at(ist, fst, ist[L.I_BLOCK_FRAME])), bpf
