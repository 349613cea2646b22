"""MIDI clock following and sending, against plain references (no JACK needed)."""

import math

import numpy as np
import pytest

from engine.live.midiclock import (
    CLOCK,
    CONTINUE,
    SONG_POSITION,
    START,
    STOP,
    ClockFollower,
    ClockSender,
    TempoEstimator,
    song_position_bytes,
)

SR = 48000.0


def clock_frames(bpm, n, start=0.0):
    """Exact frames of n clocks at a constant tempo."""
    return start + np.arange(n) * SR * 60.0 / (bpm * 24)


def feed_all(follower, frames, first=None):
    if first is not None:
        follower.feed(frames[0] - 1, bytes((first,)))
    return [follower.feed(f, bytes((CLOCK,))) for f in frames]


def test_exact_clock_gives_exact_tempo_and_position():
    f = ClockFollower(SR, default_bpm=100.0)
    frames = clock_frames(133.0, 60, start=1000.0)
    results = feed_all(f, frames, first=START)
    assert results[0] == "start" and set(results[1:]) == {"tick"}
    assert f.bpm == pytest.approx(133.0, rel=1e-12)
    fpb = SR * 60.0 / 133.0
    # Between the last clock and the next, the position is the straight line.
    for x in np.linspace(frames[-1], frames[-1] + fpb / 24 * 0.999, 7):
        assert f.position_beat(x) == pytest.approx((x - 1000.0) / fpb, abs=1e-9)


def test_position_is_capped_one_clock_past_the_last():
    f = ClockFollower(SR, default_bpm=120.0)
    frames = clock_frames(120.0, 30)
    feed_all(f, frames, first=START)
    far = frames[-1] + SR  # a second without clocks
    assert f.position_beat(far) == pytest.approx(30 / 24)
    assert f.position_beat(far, cap=False) > 30 / 24


def test_default_tempo_until_two_clocks():
    f = ClockFollower(SR, default_bpm=90.0)
    assert f.bpm == pytest.approx(90.0)
    f.feed(0, bytes((CLOCK,)))
    assert f.bpm == pytest.approx(90.0)


def test_jitter_is_smoothed():
    rng = np.random.default_rng(1)
    f = ClockFollower(SR, default_bpm=120.0)
    exact = clock_frames(120.0, 24 * 8)
    jitter = rng.normal(0.0, 0.001 * SR, exact.size)  # 1 ms rms
    feed_all(f, exact + jitter, first=START)
    # One interval is +-3 % off; the fitted tempo is much better.
    assert f.bpm == pytest.approx(120.0, rel=0.01)
    fpb = SR / 2
    err_beat = abs(f.position_beat(exact[-1]) - (exact[-1] - exact[0]) / fpb)
    assert err_beat * fpb / SR < 0.002  # within 2 ms of the true position


@pytest.mark.parametrize("new_bpm", [90.0, 140.0, 123.0])
def test_tempo_change_followed_within_a_beat(new_bpm):
    f = ClockFollower(SR, default_bpm=120.0)
    before = clock_frames(120.0, 48)
    after = clock_frames(new_bpm, 25, start=before[-1])[1:]
    feed_all(f, before, first=START)
    estimates = []
    for x in after:
        f.feed(x, bytes((CLOCK,)))
        estimates.append(f.bpm)
    # Within a beat (24 clocks) the old tempo has left the window entirely.
    assert estimates[-1] == pytest.approx(new_bpm, rel=1e-9)
    if abs(new_bpm / 120.0 - 1) > 0.1:  # a clear jump: followed after a few clocks
        assert estimates[4] == pytest.approx(new_bpm, rel=1e-9)


def test_ramp_is_followed_with_small_lag():
    # Tempo rising linearly from 100 to 140 bpm over 8 beats.
    f = ClockFollower(SR, default_bpm=100.0)
    t, frames = 0.0, []
    for k in range(24 * 8):
        bpm = 100.0 + 40.0 * k / (24 * 8)
        frames.append(t)
        t += SR * 60.0 / (bpm * 24)
    feed_all(f, np.array(frames), first=START)
    assert f.bpm == pytest.approx(140.0, rel=0.03)


def test_gap_restarts_the_estimate():
    f = ClockFollower(SR, default_bpm=120.0)
    feed_all(f, clock_frames(120.0, 30))
    later = clock_frames(150.0, 3, start=10 * SR)
    feed_all(f, later)
    assert f.bpm == pytest.approx(150.0, rel=1e-9)


def test_start_stop_continue_and_song_position():
    f = ClockFollower(SR, default_bpm=120.0)
    period = SR / 48.0
    assert f.feed(0, bytes((START,))) is None
    assert f.position_beat(0) == 0.0
    assert f.feed(10, bytes((CLOCK,))) == "start"
    for k in range(1, 12):
        f.feed(10 + k * period, bytes((CLOCK,)))
    assert f.position_beat(10 + 11 * period) == pytest.approx(11 / 24)
    assert f.feed(10 + 11.5 * period, bytes((STOP,))) == "stop"
    # Clocks while stopped keep the tempo but not the position.
    f.feed(10 + 12 * period, bytes((CLOCK,)))
    assert f.position_beat(10 + 12 * period) == pytest.approx(12 / 24)
    assert f.feed(0, song_position_bytes(8)) == "seek"  # 8 sixteenths = beat 2
    assert f.position_beat(0) == pytest.approx(2.0)
    f.feed(10 + 13 * period, bytes((CLOCK,)))
    f.feed(10 + 13.5 * period, bytes((CONTINUE,)))
    assert f.feed(10 + 14 * period, bytes((CLOCK,))) == "continue"
    assert f.position_beat(10 + 14.5 * period) == pytest.approx(2.0 + 0.5 / 24)


def test_song_position_bytes_round_trip():
    for s in (0, 1, 127, 128, 5000, 16383):
        b = song_position_bytes(s)
        assert b[0] == SONG_POSITION and (b[1] | (b[2] << 7)) == s


def test_bad_arguments():
    with pytest.raises(ValueError, match="sample_rate"):
        ClockFollower(0)
    with pytest.raises(ValueError, match="default_bpm"):
        ClockFollower(SR, default_bpm=1000.0)
    with pytest.raises(ValueError):
        TempoEstimator(0)


def run_sender(tempo_bpm, block_sizes, start_beat=0.0):
    """Drive a sender over blocks; returns [(absolute frame, status)]."""
    s = ClockSender()
    bpf = tempo_bpm / 60.0 / SR
    beat, frame, sent = start_beat, 0, []
    for n in block_sizes:
        out = []
        s.block(True, beat, bpf, n, out)
        assert [o[0] for o in out] == sorted(o[0] for o in out)
        assert all(0 <= o[0] < n for o in out)
        sent += [(frame + o[0], o[1][0]) for o in out]
        beat += n * bpf
        frame += n
    return sent


def test_sender_clocks_land_on_the_exact_frames_across_blocks():
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 300, 400)
    sent = run_sender(127.0, sizes, start_beat=-100 / (SR * 60 / 127.0))
    assert sent[0] == (100, START)
    clocks = [fr for fr, st in sent if st == CLOCK]
    fpc = SR * 60.0 / (127.0 * 24)
    expected = [100 + round(k * fpc) for k in range(len(clocks))]
    assert np.abs(np.array(clocks) - expected).max() <= 1
    assert len(clocks) == math.floor((sizes.sum() - 100) / fpc) + 1 or len(clocks) == math.ceil(
        (sizes.sum() - 100) / fpc
    )


def test_sender_resume_and_jump_use_song_position():
    s, out = ClockSender(), []
    bpf = 2.0 / SR
    s.block(True, 1.3, bpf, 12000, out)  # beats 1.3 .. 1.8
    assert out[0][1] == song_position_bytes(6) and out[1][1] == bytes((CONTINUE,))
    # Clocks resume at the pointer (beat 1.5 = tick 36), at its frame.
    assert out[2] == (round(0.2 / bpf), bytes((CLOCK,)))
    out.clear()
    s.block(True, 5.0, bpf, 256, out)  # a jump while playing
    assert [o[1][0] for o in out[:3]] == [STOP, SONG_POSITION, CONTINUE]
    out.clear()
    s.block(False, 5.0, bpf, 256, out)
    assert out == [(0, bytes((STOP,)))]
    out.clear()
    s.block(False, 5.0, bpf, 256, out)
    assert out == []


def test_sender_to_follower_round_trip():
    # A follower fed by the sender reproduces the sender's transport.
    bpm, n = 97.0, 256
    s, f = ClockSender(), ClockFollower(SR, default_bpm=120.0)
    bpf = bpm / 60.0 / SR
    beat = -17 * bpf
    for k in range(200):
        out = []
        s.block(True, beat, bpf, n, out)
        for fr, msg in out:
            f.feed(k * n + fr, msg)
        beat += n * bpf
    assert f.bpm == pytest.approx(bpm, rel=1e-4)
    x = 200 * n - 1
    assert f.position_beat(x) == pytest.approx((x - 17) * bpf, abs=2 * bpf)
