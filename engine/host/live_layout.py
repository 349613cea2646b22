"""Where everything lives in the live kernel's two state arrays.

The kernel's whole state is one int64 array (``istate``) and one float64
array (``fstate``), so the audio thread reaches it from compiled code (a
numba function or a C callback holding two pointers) without a Python
object.  This module names the slots: fixed-size regions at constant
offsets (numba folds module-level ints into the machine code), and the
variable-size regions (timeline, groove-table banks) at offsets written
into the header by ``LiveKernel.build``.

Integer slots start with ``I_``, float slots with ``F_``; a region is a
base offset plus a size.  Stage and bank formats are described where they
are written (``engine.host.live_kernel``) and read (``_lk_chain``).
"""

# -- istate: header ---------------------------------------------------------
I_MAGIC = 0
MAGIC = 0x6C6B3131  # "lk11"
# counters (audio thread writes, main thread reads)
I_CALLBACKS = 1
I_LATE = 2
I_DROPPED = 3
I_ERRORS = 4
I_EVENTS_IN = 5
I_EVENTS_OUT = 6
I_ORPHANS = 7  # note-offs with no note-on, passed through
I_PANICS = 8
I_CLOCK_IN = 9
I_CLOCK_OUT = 10
I_NEED_LATENCY_FRAME = 11  # largest latency an event needed (frames)
# configuration
I_LATENCY_FRAME = 12
I_SYNC_MIDI = 13
I_SEND_CLOCK = 14
I_CLICK = 15
I_QUIET = 16  # set after "quit": the kernel sends nothing more
# table banks
I_ACTIVE_BANK = 17  # 0 or 1: the bank the audio thread reads
I_SWAP_ACK = 18  # generation of the last swap the audio thread took
I_BANK_GEN = 19  # generation of the active bank
# transport
I_PLAYING = 20
I_ANCHOR_FRAME = 21  # absolute frame where the beat is F_ANCHOR_BEAT
I_LOOP_ON = 22
I_BLOCK_FRAME = 23  # absolute frame of the last block (status)
# ordering
I_SEQ = 24  # emission counter (stable order of pending events)
I_FENCE_FRAME = 25  # no new event goes out before this frame
I_MAX_DUE = 26  # latest due frame queued so far
I_LAST_DUE = 27  # due frame of the last event queued
# live notes
I_NOTE_COUNTER = 28  # note-ons seen (humanize's note index)
I_PENDING_N = 29  # events waiting in the delay line
# clock follower
I_CF_RUNNING = 30
I_CF_STARTED = 31
I_CF_ARMED = 32  # 1 start, 2 continue
I_CF_NEXT_TICK = 33
I_CF_LAST_TICK = 34
I_CF_N = 35  # clocks in the window
I_CF_DISAGREE = 36
I_CF_HEAD = 37  # ring position of the oldest clock
# clock sender
I_CS_WAS_PLAYING = 38
I_CS_NEXT_TICK = 39
# timeline
I_TL_N = 40  # rows (0: no timeline)
I_TL_FIRST = 41  # every row before it has been emitted
I_TL_BASE = 42  # istate offset of the timeline's int columns
I_TL_FBASE = 43  # fstate offset of the timeline's float columns
# click
I_CLICK_POS = 44  # position in the click wave (-1: silent)
I_CLICK_WAVE = 45  # 0 accent, 1 beat
I_CLICK_N = 46  # click wave length (frames)
I_BEATS_PER_BAR = 47
I_PARAM_SET = 48  # 3 flags: a CC has set timing, quantize, velocity
I_QUIT_DONE = 51  # the quit panic went out
I_CC_PARAM = 52  # 128 entries: CC number -> param id + 1 (0: not mapped)
I_CC_PARAM_N = 128
I_HEADER = I_CC_PARAM + I_CC_PARAM_N  # 180
# capacity rules (see "Capacities" in engine.host.live_kernel): counted, never dropped
I_UNTREATED = 180  # note-ons passed untimed (at arrival + L) because the note table was full
I_REUSED = 181  # note-ons that took a held note's slot of the same key (table full)
I_FORCED = 182  # delay-line entries sent early (at once) because the delay line was full
I_DEFERRED = 183  # rows held to the next block because the output buffer was full

# -- istate: rings ------------------------------------------------------------
RING_HDR = 4  # head, tail, capacity, width
CMD_CAP = 256
CMD_WIDTH = 2  # (code, int argument); float arguments in fstate
I_CMD_RING = 192
I_CMD_RING_SIZE = RING_HDR + CMD_CAP * CMD_WIDTH
OUT_CAP = 256
OUT_WIDTH = 3  # audio -> main: (what, a, b)
I_OUT_RING = I_CMD_RING + I_CMD_RING_SIZE
I_OUT_RING_SIZE = RING_HDR + OUT_CAP * OUT_WIDTH

# commands
CMD_STOP, CMD_START, CMD_CONTINUE, CMD_SEEK, CMD_PANIC, CMD_QUIT = 1, 2, 3, 4, 5, 6
CMD_PARAM, CMD_SWAP, CMD_TEMPO, CMD_LOOP = 7, 8, 9, 10
COMMANDS = dict(
    stop=CMD_STOP,
    start=CMD_START,
    play=CMD_CONTINUE,
    **{"continue": CMD_CONTINUE},
    seek=CMD_SEEK,
    panic=CMD_PANIC,
    quit=CMD_QUIT,
    param=CMD_PARAM,
    swap=CMD_SWAP,
    tempo=CMD_TEMPO,
    loop=CMD_LOOP,
)
# out-ring messages
OUT_CC = 1  # a mapped CC past I_WEIGHTS' weights, for the main thread: (param id, value)
OUT_SWAPPED = 2  # (generation, bank let go)

# params a CC drives inside the kernel
P_TIMING, P_QUANTIZE, P_VELOCITY = 0, 1, 2
#: CC-driven parameters handled on the main thread start at this id (weight1 = P_WEIGHT + 0)
P_WEIGHT = 16

# -- istate: live notes ---------------------------------------------------------
MAX_NOTES = 512  # input notes held at once
NOTE_W = 10
N_ACTIVE, N_IN_SLOT, N_OUT_KEY, N_STATE, N_SEQ, N_DUE_ON, N_INDEX, N_DROP = range(8)
#: the bank generation the note-on ran through, and its arrival frame (a note-off after a
#: swap keeps the note's length instead of replaying per-stage values against new tables)
N_GEN, N_ON_ABS = 8, 9
#: note states
NS_QUEUED, NS_SOUNDING, NS_CUT = 1, 2, 3
I_NOTES = I_OUT_RING + I_OUT_RING_SIZE
I_NOTES_SIZE = MAX_NOTES * NOTE_W

# output side, per channel*128+key
KEYS = 16 * 128
I_OUT_COUNT = I_NOTES + I_NOTES_SIZE  # notes sounding at the output
I_OUT_OWNER = I_OUT_COUNT + KEYS  # live note slot sounding on the key (-1: none)
I_CHAN_USED = I_OUT_OWNER + KEYS  # 16: bit 1 note sent, bit 2 sustain used
I_TL_OWNER = I_CHAN_USED + 16  # timeline row sounding on the key (-1: none)

# -- istate: the delay line -------------------------------------------------------
MAX_PENDING = 2048
#: output rows kept free for a panic's pedal-ups and All Notes Off (16 channels each)
OUT_RESERVE = 32
PEND_W = 7
P_DUE, P_SEQ, P_STATUS, P_D1, P_D2, P_NOTE, P_FLAGS = range(7)
#: pending flags
PF_ON, PF_OFF = 1, 2
I_PENDING = I_TL_OWNER + KEYS
I_PENDING_SIZE = MAX_PENDING * PEND_W

# -- istate: scratch for sorting a block's output ----------------------------------
I_ORDER = I_PENDING + I_PENDING_SIZE
ORDER_CAP = 4096
I_SEGS = I_ORDER + ORDER_CAP  # a block's transport segments: (offset, frames, wraps)
MAX_SEGS = 64
#: blend-weight CCs (weight1 .. weightMAX_WEIGHTS): (latest value, times set) per weight,
#: so the main thread always finds the knob's last value however long it goes unpolled
MAX_WEIGHTS = 16
I_WEIGHTS = I_SEGS + 3 * MAX_SEGS
I_FIXED_END = I_WEIGHTS + 2 * MAX_WEIGHTS

# -- fstate -------------------------------------------------------------------------
F_SAMPLE_RATE = 0
F_BPM = 1  # internal tempo
F_ANCHOR_BEAT = 2
F_LOOP_START = 3
F_LOOP_END = 4
F_CF_PERIOD = 5  # clock follower: frames per clock
F_CF_INTERCEPT = 6
F_CF_LAST_FRAME = 7
F_CS_EXPECT = 8  # clock sender: beat expected at the next block
F_LATENCY_BEAT_AT_BPM = 9  # (status) L in beats at F_BPM
F_PARAM = 10  # 3 values: timing, quantize, velocity set by CC
F_CF_DEFAULT_PERIOD = 13
F_WINDOW_BEAT = 14  # timeline scan bound
F_CLIP_SIGMA = 15  # humanize offsets are clipped at this many sigma
F_BANK_BASE = 16  # 2: fstate offset of bank 0 and bank 1
F_BANK_SIZE = 18
F_CMD_ARG = 20  # CMD_CAP float arguments (two per command)
F_CF_TIMES = F_CMD_ARG + 2 * CMD_CAP  # clock follower window (ring of WINDOW_CLOCKS)
WINDOW_CLOCKS = 24
F_NOTES = F_CF_TIMES + WINDOW_CLOCKS  # per note: arrival beat + two deltas per stage
MAX_STAGES = 8
NOTE_FW = 1 + 3 * MAX_STAGES  # arrival beat, then (pre-groove shift, groove move, lane) per stage
F_NOTES_SIZE = MAX_NOTES * NOTE_FW
F_CLICK = F_NOTES + F_NOTES_SIZE  # two waves of CLICK_MAX frames
CLICK_MAX = 8192
F_SEGS = F_CLICK + 2 * CLICK_MAX  # segment start beats, end beats
F_FIXED_END = F_SEGS + 2 * MAX_SEGS

# -- bank format (float64, offsets from the bank's base) -----------------------------
B_NSTAGES = 0
B_RANDOM = 1  # 1: some stage moves notes at random (events may pass each other)
B_ENDS_KEEP = 2
B_GROOVE_STAGE = 3  # index of the groove stage (-1: none): the timeline uses it
B_STAGES = 4  # MAX_STAGES x (kind, params offset)
B_TL = B_STAGES + 2 * MAX_STAGES  # offset of the timeline plan (TL_BW floats per row)
B_DATA = B_TL + 1
# timeline: istate rows (status, key, value, emitted), fstate rows (source beat), then
# KEYS floats (off beat of the timeline note sounding on each output key); the plan
# in the bank: (pre beat, off pre beat, kept length or -1, lane, velocity) per row
TL_IW = 4
TL_BW = 5
# stage kinds
K_QUANTIZE, K_HUMANIZE, K_GROOVE, K_VELOCITY, K_FILTER, K_TRANSPOSE = 1, 2, 3, 4, 5, 6
# groove stage params (from its offset)
G_NLANES, G_TIMING, G_QUANTIZE, G_VELOCITY, G_RANDOM_MS, G_RANDOM_VEL, G_SEED, G_TIMING_CAP = range(
    8
)
G_LANE_OF_PITCH = 8  # 128 entries
G_LANES = G_LANE_OF_PITCH + 128  # nlanes x LANE_W
LANE_W = 8
L_PERIOD, L_STEP, L_NSEG, L_COEF, L_GRID, L_NPARTS, L_PARTS = range(7)
PART_W = 4  # step, weight, nvals, values offset
