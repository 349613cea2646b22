"""``groove render --wav``: both engines, the files it writes, and its errors."""

import os
import subprocess
import sys

import numpy as np
import pytest

from engine.cli import main
from engine.midi import midifile

from .songs import gm_song

HERE = os.path.dirname(__file__)
LOOP = os.path.join(HERE, "..", "..", "..", "examples", "drum-loop.mid")


def _render(tmp_path, name, *extra, src=LOOP):
    out = tmp_path / f"{name}.mid"
    wav = tmp_path / f"{name}.wav"
    rc = main(["render", str(src), "-p", "swing16-58", "-o", str(out), "--wav", str(wav), *extra])
    return rc, out, wav


@pytest.fixture(scope="module")
def gm_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("gm") / "gm16.mid"
    midifile.write(gm_song(bars=2), path)
    return path


@pytest.mark.parametrize("blocks", [["--block-size", "64"], ["--random-blocks", "7"]])
def test_blocks_engine_sounds_like_the_direct_one_sample_for_sample(
    soundfont, tmp_path, gm_file, blocks
):
    sf = pytest.importorskip("soundfile")
    depth = ["--wav-depth", "float"]
    rc1, mid1, wav1 = _render(tmp_path, "direct", *depth, src=gm_file)
    rc2, mid2, wav2 = _render(
        tmp_path, "blocks", "--engine", "blocks", *blocks, *depth, src=gm_file
    )
    assert rc1 == rc2 == 0
    assert mid1.read_bytes() == mid2.read_bytes()
    a, sr1 = sf.read(wav1, dtype="float32")
    b, sr2 = sf.read(wav2, dtype="float32")
    assert sr1 == sr2 == 48000 and a.shape[1] == 2
    assert np.abs(a).max() > 0.05  # it plays
    assert a.shape == b.shape and np.array_equal(a, b)


def test_the_engines_emitted_frames_agree_with_the_files_to_a_tick(soundfont):
    from engine.host.events import NOTE_ON
    from engine.midi.frames import event_rows
    from engine.midi.notetable import EventTable
    from engine.midi.offline import block_sizes, render_blocks

    mid = midifile.read(LOOP)
    emitted = []
    out = render_blocks(mid, "swing16-58", sizes=block_sizes(0, seed=3), emitted=emitted)
    ev = np.concatenate(emitted)
    ons = np.sort(ev["frame"][ev["kind"] == NOTE_ON].astype(np.int64))
    rows, _ = event_rows(EventTable.from_midifile(out), 48000)
    file_ons = np.sort(rows[((rows[:, 1] & 0xF0) == 0x90) & (rows[:, 3] > 0), 0])
    tick_frames = 48000 * 0.5 / mid.ticks_per_beat  # 120 BPM
    assert ons.size == file_ons.size > 0
    assert np.abs(ons - file_ons).max() <= tick_frames


@pytest.mark.parametrize(
    "name, depth, subtype",
    [
        ("a.wav", "16", "PCM_16"),
        ("a.wav", "24", "PCM_24"),
        ("a.wav", "float", "FLOAT"),
        ("a.flac", "24", "PCM_24"),
        ("a.flac", "16", "PCM_16"),
    ],
)
def test_wav_and_flac_in_the_asked_depth(soundfont, tmp_path, name, depth, subtype):
    sf = pytest.importorskip("soundfile")
    out = tmp_path / "a.mid"
    rc = main(
        [
            "render",
            LOOP,
            "-p",
            "swing16-58",
            "-o",
            str(out),
            "--wav",
            str(tmp_path / name),
            "--wav-depth",
            depth,
            "--sample-rate",
            "44100",
        ]
    )
    assert rc == 0
    info = sf.info(tmp_path / name)
    assert info.subtype == subtype and info.samplerate == 44100 and info.channels == 2
    assert info.format == ("FLAC" if name.endswith(".flac") else "WAV")


def test_the_tail_rings_out_and_is_cut_when_silent(soundfont, tmp_path):
    sf = pytest.importorskip("soundfile")
    rc, mid, wav = _render(tmp_path, "t", "--wav-depth", "float")
    assert rc == 0
    audio, sr = sf.read(wav)
    length_sec = midifile.read(mid).length  # the file's end (its end_of_track)
    # rings past the end, but stops well within the 3 s of tail once silent
    assert length_sec * sr < audio.shape[0] < (length_sec + 3.0) * sr - sr // 10
    assert np.abs(audio[-100:]).max() < 1e-3 < np.abs(audio).max()


@pytest.mark.parametrize("case", ["missing", "not-riff", "damaged", "env-missing", "none"])
def test_bad_and_missing_soundfonts_are_one_line_exit_2_and_nothing_written(
    tmp_path, capsys, monkeypatch, case
):
    import engine.audio.soundfont as sfmod

    args = []
    if case == "missing":
        args = ["--soundfont", str(tmp_path / "nothere.sf2")]
    elif case == "not-riff":
        (tmp_path / "text.sf2").write_text("hello")
        args = ["--soundfont", str(tmp_path / "text.sf2")]
    elif case == "damaged":
        from engine.audio.fluid import available

        if available():
            pytest.skip(available())
        (tmp_path / "bad.sf2").write_bytes(b"RIFF\x10\x00\x00\x00sfbkLISTjunkjunk")
        args = ["--soundfont", str(tmp_path / "bad.sf2")]
    elif case == "env-missing":
        monkeypatch.setenv("GROOVE_SOUNDFONT", str(tmp_path / "nope.sf2"))
    else:
        monkeypatch.delenv("GROOVE_SOUNDFONT", raising=False)
        monkeypatch.setattr(sfmod, "SYSTEM_DIRS", (str(tmp_path / "empty"),))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    rc = main(
        [
            "render",
            LOOP,
            "-p",
            "swing16-58",
            "-o",
            str(out_dir / "a.mid"),
            "--wav",
            str(out_dir / "a.wav"),
            *args,
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and "SoundFont" in err[0], err
    assert list(out_dir.iterdir()) == []
    if case in ("missing", "env-missing", "none"):
        assert "apt-get install" in err[0]


def test_soundfont_lookup_order(tmp_path, monkeypatch):
    from engine.audio.soundfont import SoundFontError, find_soundfont

    head = b"RIFF\x04\x00\x00\x00sfbk"
    sysdir = tmp_path / "sys"
    sysdir.mkdir()
    (sysdir / "zz.sf2").write_bytes(head)
    (sysdir / "FluidR3_GM.sf2").write_bytes(head)
    given, env = tmp_path / "given.sf2", tmp_path / "env.sf2"
    given.write_bytes(head)
    env.write_bytes(head)
    dirs = [str(tmp_path / "absent"), str(sysdir)]
    e = {"GROOVE_SOUNDFONT": str(env)}
    assert find_soundfont(given, env=e, dirs=dirs).path == given
    assert find_soundfont(None, env=e, dirs=dirs).source == "GROOVE_SOUNDFONT"
    hit = find_soundfont(None, env={}, dirs=dirs)
    assert hit.path.name == "FluidR3_GM.sf2" and hit.source == "system"  # a GM name first
    with pytest.raises(SoundFontError, match="no SoundFont found"):
        find_soundfont(None, env={}, dirs=[str(tmp_path / "absent")])


def test_doctor_names_the_soundfont(soundfont):
    # In a child process, as a user runs it: doctor opens PortAudio (its JACK host API
    # included), which must not outlive a test's private JACK server in this process.
    done = subprocess.run(
        [sys.executable, "-m", "engine.cli", "doctor", "--soundfont", str(soundfont)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"soundfont: {soundfont}" in out and "render --wav: ready" in out
    assert "plays 8000-96000 Hz" in out  # the rates --sample-rate and JACK may use


def test_a_long_render_shows_a_progress_bar(soundfont, capsys):
    from engine.audio.fluid import FluidSynth
    from engine.audio.render import PROGRESS_SEC, render_rows

    sr = 8000  # a long render made cheap
    rows = np.array([[0, 0x90, 60, 100], [int(PROGRESS_SEC * sr) + sr, 0x80, 60, 0]])
    with FluidSynth(soundfont, sr) as synth:
        audio = render_rows(synth, rows, int(rows[-1, 0]), progress=True)
    assert audio.shape[0] > PROGRESS_SEC * sr
    assert "synth" in capsys.readouterr().err  # tqdm's bar, with its label
    with FluidSynth(soundfont, sr) as synth:
        render_rows(synth, rows[:1], sr, progress=True)  # short: no bar
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("case", ["folder", "readonly"])
def test_an_unwritable_wav_is_one_line_exit_2_and_nothing_written(
    soundfont, tmp_path, capsys, case
):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    if case == "folder":
        wav = out_dir / "a.wav"
        wav.mkdir()
    elif os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        wav = ro / "a.wav"
    elif os.path.isdir("/proc/self"):
        wav = "/proc/self/groove-a.wav"  # not writable, even by root
    else:
        pytest.skip("no folder root cannot write to")
    rc = main(["render", LOOP, "-p", "swing16-58", "-o", str(out_dir / "a.mid"), "--wav", str(wav)])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert err[0].startswith(f"groove render: --wav: {wav}: cannot write (")
    assert ".tmp" not in err[0]  # the target, not the temporary file
    assert [p.name for p in out_dir.iterdir()] == (["a.wav"] if case == "folder" else [])


def _loud(tmp_path):
    """16 channels x 6 notes at velocity 127, volume 127: far above 0 dBFS summed."""
    import mido

    from .songs import file_of

    ev = []
    for ch in range(16):
        if ch != 9:
            ev.append((0, mido.Message("program_change", channel=ch, program=30)))
        ev.append((0, mido.Message("control_change", channel=ch, control=7, value=127)))
        for k in range(6):
            key = 40 + k * 5
            ev.append((240, mido.Message("note_on", channel=ch, note=key, velocity=127)))
            ev.append((960, mido.Message("note_off", channel=ch, note=key)))
    path = tmp_path / "loud.mid"
    midifile.write(file_of(ev), path)
    return path


def test_one_gain_rule_for_every_format_with_a_notice(soundfont, tmp_path, capsys):
    sf = pytest.importorskip("soundfile")
    src = _loud(tmp_path)
    peaks, notices = {}, {}
    for depth, name in (("float", "f.wav"), ("24", "i.wav"), ("16", "s.wav"), ("24", "i.flac")):
        out = tmp_path / name
        rc = main(
            ["render", str(src), "-p", "swing16-58", "-o", str(tmp_path / "o.mid")]
            + ["--wav", str(out), "--wav-depth", depth]
        )
        assert rc == 0
        notices[name] = [ln for ln in capsys.readouterr().err.splitlines() if "dBFS" in ln]
        audio, _ = sf.read(out, dtype="float64")
        peaks[name] = float(np.abs(audio).max())
    assert all(len(n) == 1 and "scaled" in n[0] for n in notices.values()), notices
    assert max(peaks.values()) <= 1.0
    assert max(peaks.values()) - min(peaks.values()) < 1e-3, peaks  # the same level


def test_a_quiet_render_is_not_scaled():
    from engine.audio.render import encode_gain

    audio = np.full((100, 2), 0.5, np.float32)
    assert encode_gain(audio) == 1.0
    audio[3, 1] = -3.0
    assert encode_gain(audio) == pytest.approx(0.999 / 3.0)


def test_a_note_left_sounding_at_the_end_releases_instead_of_being_cut(soundfont):
    from engine.audio.fluid import FluidSynth
    from engine.audio.render import render_rows

    sr = 48000
    organ = [[0, 0xC0, 19, 0], [0, 0x90, 60, 110]]  # no note-off
    pedal = [[0, 0xC1, 19, 0], [0, 0xB1, 64, 127], [0, 0x91, 64, 110], [100, 0x81, 64, 0]]
    for rows in (organ, pedal):
        with FluidSynth(soundfont, sr) as synth:
            audio = render_rows(synth, np.array(rows), sr, progress=False)
        level = np.abs(audio).max(axis=1)
        assert level[:sr].max() > 0.02
        assert audio.shape[0] < 4 * sr - sr // 10  # released: silent well before the 3 s cap
        assert level[-64:].max() < 1e-3


def test_a_tail_still_loud_at_the_cap_fades_out(soundfont):
    from engine.audio.fluid import FluidSynth
    from engine.audio.render import FADE_SEC, render_rows

    sr = 48000
    rows = np.array([[0, 0xC0, 48, 0], [0, 0x90, 60, 110]])  # strings: a long release
    with FluidSynth(soundfont, sr) as synth:
        audio = render_rows(synth, rows, sr, tail_sec=0.05, progress=False)
    assert sr + round(0.04 * sr) < audio.shape[0] <= sr + round(0.05 * sr)
    level = np.abs(audio).max(axis=1)
    fade = int(FADE_SEC * sr)
    assert 0.01 <= FADE_SEC <= 0.05
    assert level[-fade - 480 : -fade].max() > 0.01  # loud just before the fade
    assert level[-1] < 1e-4 and level[-16:].max() < 0.01 * level[-fade - 480 : -fade].max()
