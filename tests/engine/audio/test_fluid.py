"""The binding's limits: the sample rate FluidSynth plays, a wrong library, its threads."""

import os
import subprocess
import sys

import numpy as np
import pytest

from engine.cli import main

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..", "..")
LOOP = os.path.join(ROOT, "examples", "drum-loop.mid")


@pytest.mark.parametrize("rate", [4000, 192000])
def test_a_sample_rate_fluidsynth_does_not_play_is_an_error_not_wrong_pitch(soundfont, rate):
    from engine.audio.fluid import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, FluidSynth, SynthError

    assert (MIN_SAMPLE_RATE, MAX_SAMPLE_RATE) == (8000, 96000)
    with pytest.raises(SynthError, match=f"FluidSynth plays 8000-96000 Hz, not {rate} Hz"):
        FluidSynth(soundfont, rate)


def test_every_setting_is_checked(soundfont):
    from engine.audio.fluid import FluidSynth, SynthError

    with pytest.raises(SynthError, match="synth.polyphony"):
        FluidSynth(soundfont, 48000, polyphony=0)  # FluidSynth takes 1..65535


@pytest.mark.parametrize("rate", ["4000", "192000"])
def test_render_wav_refuses_a_rate_fluidsynth_cannot_play(soundfont, tmp_path, capsys, rate):
    rc = main(
        ["render", LOOP, "-p", "swing16-58", "-o", str(tmp_path / "a.mid")]
        + ["--wav", str(tmp_path / "a.wav"), "--sample-rate", rate]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert "8000" in err[0] and "96000" in err[0] and "--sample-rate 48000" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_the_live_synth_refuses_an_audio_rate_fluidsynth_cannot_play(soundfont):
    from engine.audio.fluid import SynthError
    from engine.audio.live import LiveSynth

    with pytest.raises(SynthError, match="runs at 192000 Hz.*8000-96000 Hz"):
        LiveSynth(soundfont, 192000.0, 256)


def _python(code, **env):
    full = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    full["OPENBLAS_NUM_THREADS"] = "1"  # numpy's own pool is not the synth's
    full.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=full
    )


def test_a_wrong_library_in_the_environment_is_one_line_not_a_traceback(soundfont, tmp_path):
    code = (
        "import sys\nfrom engine.cli import main\n"
        f"sys.exit(main(['render', {LOOP!r}, '-p', 'swing16-58', '-o', "
        f"{str(tmp_path / 'a.mid')!r}, '--wav', {str(tmp_path / 'a.wav')!r}]))\n"
    )
    run = _python(code, GROOVE_LIBFLUIDSYNTH="libm.so.6")
    err = run.stderr.strip().splitlines()
    assert run.returncode == 2 and len(err) == 1, run.stderr
    assert "libm.so.6 is not libfluidsynth 2.x (no " in err[0] and "libfluidsynth3" in err[0]
    assert list(tmp_path.iterdir()) == []


def test_no_thread_but_the_callers_renders(soundfont):
    """FluidSynth is built with OpenMP: with libgomp's default a worker thread starts with the
    synth, idle, but one more thread on a real-time machine; groove loads it single-threaded."""
    code = (
        "import os, numpy as np\n"
        "from engine.audio.fluid import FluidSynth\n"
        "from engine.audio._segments import compiled\n"
        f"s = FluidSynth({str(soundfont)!r}, 48000)\n"
        "buf = np.zeros(4096, np.float32)\n"
        "compiled()(s.ptr, np.array([[0, 0x90, 60, 100]]), 1, 4096, buf, buf.copy())\n"
        "print(len(os.listdir('/proc/self/task')), os.environ.get('OMP_NUM_THREADS'))\n"
    )
    if not os.path.isdir("/proc/self/task"):
        pytest.skip("needs Linux /proc to count threads")
    run = _python(code)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1", "None"]  # and the environment is left as it was


def test_a_long_render_progress_bar_ends_at_its_total():
    pytest.importorskip("tqdm")
    from engine.audio.render import CHUNK_FRAMES, _Progress

    sr = 48000
    total = 40 * sr + 123
    bar = _Progress(total, sr, True)
    for pos in range(CHUNK_FRAMES, total + CHUNK_FRAMES, CHUNK_FRAMES):
        bar.advance(min(pos, total))
        assert bar.bar.n <= bar.bar.total
    assert bar.bar.n == bar.bar.total == 40.0
    bar.close()
    assert np.isfinite(bar.bar.total)
