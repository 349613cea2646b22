"""``groove doctor``: what groove will use to make sound, and what is missing.

Prints the SoundFont ``--wav`` would play (and why that one), whether
libfluidsynth and soundfile load, and whether JACK and PortAudio are usable.
Exit 0 when a render with ``--wav`` would work, 2 when it would not.
"""

from __future__ import annotations

import os


def add_parser(sub):
    p = sub.add_parser(
        "doctor",
        help="say which SoundFont and audio backends groove will use",
        description="Check the synthesizer (libfluidsynth, a General MIDI SoundFont), "
        "soundfile, and the live backends (JACK, PortAudio).",
    )
    p.add_argument("--soundfont", metavar="FILE.sf2", help="check this SoundFont instead")
    p.set_defaults(func=run)


def _soundfont(explicit) -> tuple:
    from engine.audio.soundfont import SYSTEM_DIRS, SoundFontError, find_soundfont

    try:
        found = find_soundfont(explicit)
    except SoundFontError as exc:
        return False, f"soundfont: MISSING: {exc}"
    why = {
        "--soundfont": "given with --soundfont",
        "GROOVE_SOUNDFONT": "from $GROOVE_SOUNDFONT",
        "system": f"the first found in {', '.join(SYSTEM_DIRS)}",
    }[found.source]
    return True, f"soundfont: {found.path} ({why}; --soundfont or $GROOVE_SOUNDFONT override)"


def _fluidsynth(explicit) -> tuple:
    from engine.audio.fluid import (
        MAX_SAMPLE_RATE,
        MIN_SAMPLE_RATE,
        FluidSynth,
        SynthError,
        available,
    )
    from engine.audio.soundfont import SoundFontError, find_soundfont

    why = available()
    if why:
        return False, f"fluidsynth: MISSING: {why}"
    try:
        with FluidSynth(find_soundfont(explicit).path, 48000.0) as synth:
            return True, (
                f"fluidsynth: ok (loads the SoundFont; {synth.block_frames}-frame blocks; "
                f"plays {MIN_SAMPLE_RATE}-{MAX_SAMPLE_RATE} Hz)"
            )
    except SoundFontError:
        return False, "fluidsynth: library ok, but no SoundFont to load"
    except SynthError as exc:
        return False, f"fluidsynth: {exc}"


def _soundfile() -> tuple:
    try:
        import soundfile
    except (ImportError, OSError) as exc:
        return False, f"soundfile: MISSING ({exc}): pip install 'groove[audio]'"
    return True, f"soundfile: ok (libsndfile {soundfile.__libsndfile_version__}; WAV, FLAC)"


def _jack() -> str:
    os.environ.setdefault("JACK_NO_START_SERVER", "1")
    try:
        import jack
    except (ImportError, OSError) as exc:
        return f"jack: unavailable ({exc}): install jackd2 and pip install JACK-Client"
    jack.set_error_function(lambda msg: None)
    try:
        client = jack.Client(
            "groove-doctor", no_start_server=True, servername=os.environ.get("JACK_DEFAULT_SERVER")
        )
    except jack.JackError:
        return "jack: library ok, no server running (scripts/jackd-start.sh or qjackctl starts one)"
    finally:
        jack.set_error_function(None)
    try:
        playback = client.get_ports(is_audio=True, is_input=True, is_physical=True)
        return (
            f"jack: server at {client.samplerate} Hz, {client.blocksize} frames; "
            f"{len(playback)} playback port(s)"
        )
    finally:
        client.close()


def _portaudio() -> str:
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        return f"portaudio: unavailable ({exc}): install libportaudio2 and pip install sounddevice"
    try:
        out = sounddevice.query_devices(kind="output")
    except Exception as exc:  # no device at all is a PortAudioError or a ValueError
        return f"portaudio: library ok, no output device ({exc})"
    return f"portaudio: default output {out['name']!r} at {out['default_samplerate']:g} Hz"


def run(args) -> int:
    ok_sf, sf_line = _soundfont(args.soundfont)
    ok_fs, fs_line = _fluidsynth(args.soundfont) if ok_sf else (False, None)
    ok_io, io_line = _soundfile()
    for line in (sf_line, fs_line, io_line, _jack(), _portaudio()):
        if line:
            print(line)
    usable = ok_sf and ok_fs and ok_io
    print("render --wav: " + ("ready" if usable else "NOT ready (see above)"))
    return 0 if usable else 2
