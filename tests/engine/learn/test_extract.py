"""groove extract: grid assignment, the robust lane fit, lanes, score pairing, the CLI."""

from __future__ import annotations

import itertools
from pathlib import Path

import mido
import numpy as np
import pytest
from scipy.optimize import minimize as scipy_minimize

from engine import cli, presets
from engine.learn import extract, lanefit, performance, scorematch

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
GMD_FILE = SHARED / "gmd" / "drummer1" / "session1" / "1_funk_80_beat_4-4.mid"
PARTITURA = SHARED / "midi-edge" / "partitura"
needs_gmd = pytest.mark.skipif(not GMD_FILE.is_file(), reason="../shared GMD data is absent")
needs_partitura = pytest.mark.skipif(
    not (PARTITURA / "mozart_k265_var1.mid").is_file(), reason="../shared partitura pair is absent"
)
KICK, SNARE, HAT = 36, 38, 42


# -- synthetic performances (shared with test_analyze and test_match) -------------------------
def write_midi(path, notes, *, tpb=480, bpm=120.0, time_signature=(4, 4), channel=9):
    """Write notes (beat, pitch, velocity[, length_beat[, track]]) as a format-1 file."""
    mid = mido.MidiFile(type=1, ticks_per_beat=tpb)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=int(round(60e6 / bpm)), time=0))
    if time_signature:
        meta.append(
            mido.MetaMessage(
                "time_signature", numerator=time_signature[0], denominator=time_signature[1], time=0
            )
        )
    mid.tracks.append(meta)
    by_track = {}
    for n in notes:
        beat, pitch, vel = n[:3]
        length = n[3] if len(n) > 3 else 0.1
        track = n[4] if len(n) > 4 else 0
        on = max(int(round(beat * tpb)), 0)
        by_track.setdefault(track, []).extend(
            [(on, 1, pitch, int(vel)), (on + max(int(round(length * tpb)), 1), 0, pitch, 0)]
        )
    for track in sorted(by_track):
        trk, now = mido.MidiTrack(), 0
        for tick, is_on, pitch, vel in sorted(by_track[track]):
            kind = "note_on" if is_on else "note_off"
            trk.append(
                mido.Message(kind, note=pitch, velocity=vel, channel=channel, time=tick - now)
            )
            now = tick
        mid.tracks.append(trk)
    mid.save(path)
    return path


def drum_notes(offsets, bars=16, noise_step=0.03, seed=0, outliers=0.0, step_beat=0.25):
    """Kick on 1 and 3, snare on 2 and 4, hats on every 8th, shifted by per-lane offsets.

    ``offsets[pitch]`` is 16 offsets in steps; returns notes for write_midi.
    """
    rng = np.random.default_rng(seed)
    pattern = {KICK: [0, 8], SNARE: [4, 12], HAT: list(range(0, 16, 2))}
    notes = []
    for bar, (pitch, steps) in itertools.product(range(bars), pattern.items()):
        for k in steps:
            off = offsets[pitch][k] + rng.normal(0.0, noise_step)
            if rng.random() < outliers:
                off += rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 0.9) * 2 / 4
            vel = 100 if k % 4 == 0 else 60
            notes.append(((bar * 16 + k + off) * step_beat, pitch, vel))
    return notes


def planted():
    k = np.arange(16)
    return {
        KICK: np.full(16, -0.08),
        SNARE: 0.2 + 0.02 * (k % 4 == 0),
        HAT: np.where(k % 4 == 2, 0.12, 0.0),
    }


def run(*argv):
    return cli.main([str(a) for a in argv])


# -- the hierarchical objective, written out slowly ---------------------------------------------
def slow_objective(x, u, step, lane, L, N, B, delta, ks, kl):
    p, q = x[:B], x[B : B + L * B].reshape(L, B)
    o, g = x[B + L * B : B + L * B + L * N].reshape(L, N), x[B + L * B + L * N :]

    def h(r):
        return 0.5 * r * r if abs(r) <= delta else delta * (abs(r) - 0.5 * delta)

    total = 0.0
    for ui, ki, li in zip(u, step, lane):
        if li >= 0:
            total += h(ui - o[li, ki])
        total += h(ui - g[ki])
    for li in range(L):
        for k in range(N):
            total += 0.5 * ks * (o[li, k] - q[li, k % B]) ** 2
        for j in range(B):
            total += 0.5 * kl * (q[li, j] - p[j]) ** 2
    for k in range(N):
        total += 0.5 * ks * (g[k] - p[k % B]) ** 2
    return total


def random_cells(seed, m=160, L=3, N=8):
    rng = np.random.default_rng(seed)
    step = rng.integers(0, N, m)
    lane = rng.integers(-1, L, m)
    u = 0.1 * np.sin(step) + 0.05 * lane + rng.normal(0, 0.05, m)
    u[:5] += 0.8  # outliers
    return u, step, lane


@pytest.mark.parametrize("seed", range(3))
def test_lane_fit_minimises_the_written_out_objective(seed):
    u, step, lane = random_cells(seed)
    L, N, B, delta, ks, kl = 3, 8, 4, 0.05, 3.0, 2.0
    fit = lanefit.fit_lane_offsets(
        u, step, lane, L, N, B, delta_step=delta, kappa_step=ks, kappa_lane=kl, tol=1e-12
    )
    x = np.concatenate([fit.beat, fit.lane_beat.ravel(), fit.lanes.ravel(), fit.pooled])
    ref = scipy_minimize(
        slow_objective,
        np.zeros_like(x),
        args=(u, step, lane, L, N, B, delta, ks, kl),
        method="BFGS",
        options=dict(gtol=1e-10, maxiter=5000),
    )
    mine = slow_objective(x, u, step, lane, L, N, B, delta, ks, kl)
    assert mine <= ref.fun + 1e-7 * max(1.0, abs(ref.fun))
    np.testing.assert_allclose(fit.lanes.ravel(), ref.x[B + L * B : B + L * B + L * N], atol=2e-3)


def test_lane_fit_keeps_every_row_monotone():
    # notes that pull step 3 a full step early right after a late step 2
    step = np.repeat(np.arange(8), 6)
    u = np.where(step == 2, 0.6, 0.0) + np.where(step == 3, -0.9, 0.0)
    lane = np.zeros_like(step)
    fit = lanefit.fit_lane_offsets(
        u, step, lane, 1, 8, 1, delta_step=0.5, kappa_step=0.0, kappa_lane=0.0, margin=0.01
    )
    for row in (fit.pooled, fit.lanes[0]):
        assert (np.roll(row, -1) - row >= -1 + 0.01 - 1e-9).all()
    assert fit.lanes[0][2] - fit.lanes[0][3] == pytest.approx(0.99, abs=1e-6)


def test_huber_fit_resists_outliers_that_move_the_mean():
    rng = np.random.default_rng(1)
    u = rng.normal(0.1, 0.02, 200)
    u[:20] = 0.9  # 10% wild notes
    step = np.zeros(200, np.int64)
    lane = np.full(200, -1)
    fit = lanefit.fit_lane_offsets(
        u, step, lane, 0, 1, 1, delta_step=0.03, kappa_step=0.0, kappa_lane=0.0
    )
    assert abs(fit.pooled[0] - 0.1) < 0.01
    assert abs(u.mean() - 0.1) > 0.07


def test_a_step_with_few_notes_is_shrunk_toward_its_lane_profile():
    # lane 0 plays step 0 of each beat 0.2 late many times, and step 4 once, 0.8 late
    step = np.array([0] * 40 + [8] * 40 + [12] * 40 + [4])
    u = np.array([0.2] * 120 + [0.8])
    lane = np.zeros_like(step)
    fit = lanefit.fit_lane_offsets(
        u, step, lane, 1, 16, 4, delta_step=1.0, kappa_step=4.0, kappa_lane=1.0
    )
    assert 0.2 < fit.lanes[0][4] < 0.5  # one note cannot pull it all the way
    assert fit.lanes[0][0] == pytest.approx(0.2, abs=0.02)


def test_velocity_cells_are_shrunk_medians():
    vel = np.array([100, 100, 100, 40])
    step = np.array([0, 0, 0, 1])
    lane = np.array([0, 0, 0, 0])
    pooled, lanes = lanefit.fit_lane_velocity(vel, step, lane, 1, 2, 1, kappa=2.0)
    lane_all = (4 * 100 + 2 * 100) / 6  # lane median 100 toward all (100)
    prior = (4 * 100 + 2 * lane_all) / 6  # cycle 1: one beat cell
    assert lanes[0][1] == pytest.approx((1 * 40 + 2 * prior) / 3)
    assert lanes[0][0] == pytest.approx((3 * 100 + 2 * prior) / 5)


def test_cross_validation_folds_are_contiguous_blocks_of_bars():
    bar = np.repeat(np.arange(9), 3)
    fold = extract.cv_folds(bar)
    assert fold.tolist() == [0] * 9 + [1] * 9 + [2] * 9
    assert (extract.cv_folds(np.array([0, 1])) == 0).all()


# -- assignment, lanes, grids ---------------------------------------------------------------------
def test_steps_per_period():
    assert extract.steps_per_period("1/16", 4) == (0.25, 16, 4)
    assert extract.steps_per_period("1/8t", 4) == (pytest.approx(1 / 3), 12, 3)
    assert extract.steps_per_period("1/2", 4)[2] == 1
    with pytest.raises(extract.ExtractError, match="does not divide --period 4"):
        extract.steps_per_period("1/4d", 4)
    with pytest.raises(extract.ExtractError, match="--grid"):
        extract.steps_per_period("1/7", 4)


def test_notes_snap_to_the_nearest_grid_line(tmp_path):
    f = write_midi(tmp_path / "p.mid", [(0.05, KICK, 90), (0.2, KICK, 90), (4.9, HAT, 50)])
    perf = performance.read(f)
    asg = performance.assign_grid(perf, 0.25, 16)
    assert asg["grid_beat"].tolist() == [0.0, 0.25, 5.0]
    assert asg["step"].tolist() == [0, 1, 4]
    np.testing.assert_allclose(asg["residual_beat"], [0.05, -0.05, -0.1], atol=1e-9)
    assert asg["bar"].tolist() == [0, 0, 1]
    np.testing.assert_allclose(asg["ms_per_beat"], 500.0)


def test_drum_lanes_by_family_and_instrument_lanes_when_pitches_differ(tmp_path):
    notes = [(b * 0.5, p, 80) for b in range(16) for p in (KICK, 44, 51)]
    perf = performance.read(write_midi(tmp_path / "d.mid", notes))
    lanes = extract.detect_lanes(performance.assign_grid(perf, 0.25, 16), "auto")
    assert lanes.names == ("kick", "hi-hat-pedal", "ride")
    piano = [(b, 40 + (b % 5), 80, 0.5, 0) for b in range(12)] + [
        (b + 0.5, 70 + (b % 3), 80, 0.5, 1) for b in range(12)
    ]
    perf = performance.read(write_midi(tmp_path / "p.mid", piano, channel=0))
    lanes = extract.detect_lanes(performance.assign_grid(perf, 0.25, 16), "auto", perf.track_names)
    assert lanes.names == ("track1", "track2")
    assert lanes.notes[0] == (40, 41, 42, 43, 44)
    overlap = piano + [(20, 72, 80, 0.5, 0)]
    perf = performance.read(write_midi(tmp_path / "o.mid", overlap, channel=0))
    assert extract.detect_lanes(performance.assign_grid(perf, 0.25, 16), "auto").names == ()
    assert extract.detect_lanes(performance.assign_grid(perf, 0.25, 16), "none").names == ()


def test_extraction_recovers_planted_lane_offsets(tmp_path):
    truth = planted()
    f = write_midi(tmp_path / "groove.mid", drum_notes(truth, bars=24, outliers=0.05))
    ex = extract.extract(performance.read(f))
    lanes = {ln.name: ln for ln in ex.lanes}
    assert set(lanes) == {"kick", "snare", "hi-hat"}
    for name, pitch in (("kick", KICK), ("snare", SNARE), ("hi-hat", HAT)):
        played = np.array(
            sorted(
                {
                    k
                    for k in range(16)
                    if (pitch == HAT and k % 2 == 0)
                    or (pitch == KICK and k in (0, 8))
                    or (pitch == SNARE and k in (4, 12))
                }
            )
        )
        np.testing.assert_allclose(lanes[name].offsets[played], truth[pitch][played], atol=0.03)
    assert ex.residual_ms < ex.quantized_ms
    np.testing.assert_allclose(lanes["kick"].velocity[[0, 8]], 1.0)


def test_triplet_feel_suggests_a_triplet_grid(tmp_path):
    notes = [(b + f, HAT, 80) for b in range(32) for f in (0.0, 2 / 3)]
    ex = extract.extract(performance.read(write_midi(tmp_path / "t.mid", notes)))
    assert any("--grid 1/8t" in w for w in ex.warnings)
    straight = [(b * 0.25, HAT, 80) for b in range(64)]
    ex = extract.extract(performance.read(write_midi(tmp_path / "s.mid", straight)))
    assert not ex.warnings


# -- score pairing ------------------------------------------------------------------------------
def lcs_length_slow(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, j in itertools.product(range(1, len(a) + 1), range(1, len(b) + 1)):
        table[i][j] = max(
            table[i - 1][j], table[i][j - 1], table[i - 1][j - 1] + (a[i - 1] == b[j - 1])
        )
    return table[-1][-1]


@pytest.mark.parametrize("seed", range(5))
def test_lcs_pairs_are_a_longest_common_subsequence(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 4, 30), rng.integers(0, 4, 25)
    pairs = scorematch._lcs_pairs(a, b)
    assert len(pairs) == lcs_length_slow(a.tolist(), b.tolist())
    assert (np.diff(pairs, axis=0) > 0).all()
    assert (a[pairs[:, 0]] == b[pairs[:, 1]]).all()


def rubato_pair(tmp_path, n_beats=48, seed=0):
    """A score of 16ths and the same notes played with drifting tempo and a planted groove."""
    rng = np.random.default_rng(seed)
    beats = np.arange(n_beats * 4) * 0.25
    pitch = 60 + (np.arange(beats.size) * 7) % 12
    groove_beat = np.where(np.arange(beats.size) % 4 == 3, 0.05, 0.0)  # every 'a' late
    tempo_sec = 0.5 + 0.1 * np.sin(beats / 8.0)  # sec per beat drifts
    sec = np.concatenate([[0.0], np.cumsum(tempo_sec[:-1] * 0.25)])
    played = sec + (groove_beat + rng.normal(0, 0.004, beats.size)) * tempo_sec
    score = write_midi(
        tmp_path / "score.mid",
        [(b, p, 80) for b, p in zip(beats, pitch)],
        channel=0,
        time_signature=(4, 4),
    )
    perf = write_midi(
        tmp_path / "perf.mid",
        [(s * 2.0, p, 80) for s, p in zip(played, pitch)],
        channel=0,
        time_signature=None,
    )  # 120 bpm: beat = 2 * seconds
    return perf, score


def test_a_score_pairs_rubato_notes_and_recovers_the_groove(tmp_path):
    perf_f, score_f = rubato_pair(tmp_path)
    ex = extract.extract(performance.read(perf_f), score=performance.read(score_f), lanes="none")
    assert ex.match_share == 1.0
    o = ex.offsets - ex.offsets[0]
    np.testing.assert_allclose(o[3::4], 0.2, atol=0.04)  # 0.05 beat = 0.2 of a 16th
    np.testing.assert_allclose(o[1::4], 0.0, atol=0.04)


def test_a_score_of_other_notes_is_refused(tmp_path):
    perf_f, _ = rubato_pair(tmp_path)
    other = write_midi(
        tmp_path / "other.mid", [(b * 0.5, 30 + b % 3, 80) for b in range(40)], channel=0
    )
    with pytest.raises(extract.ExtractError, match=r"only \d+% of notes paired"):
        extract.extract(performance.read(perf_f), score=performance.read(other))


# -- the command line ------------------------------------------------------------------------------
def test_cli_writes_a_preset_with_a_header(tmp_path, capsys):
    f = write_midi(tmp_path / "groove.mid", drum_notes(planted(), bars=12))
    out = tmp_path / "learned.yaml"
    assert run("extract", f, "-o", out) == 0
    assert "wrote" in capsys.readouterr().out
    text = out.read_text()
    head = [line for line in text.splitlines() if line.startswith("#")]
    assert str(f) in head[0] and "notes used: 144 of 144" in head[1]
    assert "fit residual" in head[2] and " ms" in head[2]
    preset = presets.load(out)
    assert preset.name == "learned" and {ln.name for ln in preset.lanes} >= {"snare", "kick"}
    assert preset.groove.grid == "1/16" and preset.groove.period_beat == 4


@pytest.mark.parametrize(
    "make, extra, message",
    [
        (lambda d: drum_notes(planted(), bars=1)[:5], [], "at least 8"),
        (lambda d: drum_notes(planted(), bars=4), ["--grid", "1/4d"], "does not divide"),
        (lambda d: drum_notes(planted(), bars=4), ["--channels", "1"], "no notes on the chosen"),
        (lambda d: drum_notes(planted(), bars=4), ["--bars", "9-12"], "no notes in bars 9-12"),
        (
            lambda d: drum_notes(planted(), bars=4),
            ["--lanes", "none", "--period", "3.3"],
            "does not divide --period 3.3",
        ),
    ],
)
def test_cli_bad_input_is_one_line_exit_2_and_nothing_written(
    tmp_path, capsys, make, extra, message
):
    f = write_midi(tmp_path / "in.mid", make(tmp_path))
    out = tmp_path / "x.yaml"
    assert run("extract", f, "-o", out, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_cli_refuses_a_score_that_does_not_match(tmp_path, capsys):
    perf_f, _ = rubato_pair(tmp_path)
    other = write_midi(tmp_path / "other.mid", [(b * 0.5, 30, 80) for b in range(40)], channel=0)
    assert run("extract", perf_f, "--score", other, "-o", tmp_path / "x.yaml") == 2
    err = capsys.readouterr().err
    assert "does not match" in err and "% of notes paired" in err
    assert not (tmp_path / "x.yaml").exists()


def test_cli_warns_when_the_meter_is_not_the_period(tmp_path, capsys):
    f = write_midi(
        tmp_path / "waltz.mid", [(b * 0.5, HAT, 80) for b in range(48)], time_signature=(3, 4)
    )
    assert run("extract", f, "-o", tmp_path / "w.yaml") == 0
    err = capsys.readouterr().err
    assert "3/4" in err and "--period 3" in err
    assert run("extract", f, "--period", "3", "-o", tmp_path / "w3.yaml") == 0
    assert "warning" not in capsys.readouterr().err


# -- real performances ---------------------------------------------------------------------------
@needs_gmd
def test_a_real_drummer(tmp_path):
    out = tmp_path / "funk.yaml"
    assert run("extract", GMD_FILE, "-o", out, "--bars", "1-12") == 0
    preset = presets.load(out)
    assert preset.lanes and "bars 1-12" in out.read_text().splitlines()[1]


@needs_partitura
def test_the_partitura_performance_and_score(tmp_path):
    perf = performance.read(PARTITURA / "mozart_k265_var1.mid")
    score = performance.read(PARTITURA / "mozart_k265_var1_quantized.mid")
    ex = extract.extract(perf, score=score, period=2)
    assert ex.match_share > 0.9 and not ex.warnings
    assert ex.residual_ms < ex.quantized_ms
    assert len(ex.lanes) == 2  # right and left hand differ
    ex4 = extract.extract(perf, score=score)
    assert any("--period 2" in w for w in ex4.warnings)
