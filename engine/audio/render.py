"""Offline audio: event rows through FluidSynth into a WAV or FLAC file.

The rows are played block after block through the same kernel an audio
callback calls (``engine.audio._segments.render_segments``), so an offline
render sounds as the live synth does.  Each row is sent at the frame of
FluidSynth's 64-frame grid nearest its own (``snap``; the synth starts a
message at its next grid frame): at most 32 frames early, 31 late.  At the
end every note and pedal is released (a note without its note-off, a pedal
still down), the tail rings out (reverb, releases) for up to ``tail_sec``,
is cut where it falls silent, and fades out over ``FADE_SEC`` if it is
still sounding at the cap.  Every format gets the same gain: none, unless
the peak is over full scale, then all of it is scaled to just below
(``encode_gain``; the caller is told).
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np

from .fluid import FluidSynth, SynthError
from .soundfont import find_soundfont

#: Frames per kernel call offline (the progress bar moves by one).
CHUNK_FRAMES = 1 << 15
#: Below this (-90 dBFS) the tail counts as silent.
SILENCE = 10 ** (-90 / 20)
#: Renders longer than this show a progress bar (when stderr is a terminal).
PROGRESS_SEC = 30.0
#: A tail still sounding at the cap fades out over this long.
FADE_SEC = 0.02
#: The peak a louder render is scaled to (every format alike).
PEAK = 0.999
#: Sent at the end, on every channel: sustain and sostenuto up, then All Notes Off.
_RELEASE_CCS = (64, 66, 123)

#: --wav-depth -> soundfile subtype
DEPTHS = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}
FORMATS = {".wav": "WAV", ".flac": "FLAC"}


def check_output(path, depth="24") -> tuple:
    """(format, subtype) for an audio output path, or ValueError before anything is written."""
    p = Path(path)
    fmt = FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"--wav: {p}: use a name ending in .wav or .flac")
    if depth not in DEPTHS:
        raise ValueError(f"--wav-depth: {depth!r}; use one of {', '.join(DEPTHS)}")
    if fmt == "FLAC" and depth == "float":
        raise ValueError(f"--wav: {p}: FLAC holds 16 or 24 bits, not float; use --wav-depth 24")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"--wav: {p}: the folder {folder} does not exist")
    _check_writable(p, folder)
    return fmt, DEPTHS[depth]


def _check_writable(p: Path, folder: Path) -> None:
    """OSError ``--wav: PATH: cannot write (why)`` unless a file can be put at ``p``: the
    atomic write makes a temporary file in the folder, then replaces the target."""
    if p.is_dir():
        raise OSError(f"--wav: {p}: cannot write (it is a folder)")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{p.name}.", suffix=".probe")
    except OSError as exc:
        raise OSError(f"--wav: {p}: cannot write ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(tmp)


def open_synth(soundfont=None, sample_rate=48000.0, *, twin=True, **kwargs):
    """Find the SoundFont (``find_soundfont``) and start the synth ``--wav`` plays: a
    ``SynthPair`` (notes to +-16 frames, ``engine.audio.twin``), or with ``twin=False``
    one FluidSynth (-32..+31 frames)."""
    from .twin import SynthPair

    found = find_soundfont(soundfont)
    return (SynthPair if twin else FluidSynth)(found.path, sample_rate, **kwargs)


class _Progress:
    """A tqdm bar in seconds of audio, moved to each position (never past its total)."""

    def __init__(self, total_frames, sample_rate, enabled):
        self.bar = None
        self.sample_rate = float(sample_rate)
        if enabled is False or total_frames < PROGRESS_SEC * sample_rate:
            return
        from tqdm import tqdm

        self.bar = tqdm(
            total=round(total_frames / self.sample_rate, 1),
            unit="s",
            desc="synth",
            disable=None if enabled is None else False,
            leave=False,
        )

    def advance(self, pos_frame) -> None:
        if self.bar is not None:
            self.bar.update(round(pos_frame / self.sample_rate, 1) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def snap(frames, grid=64):
    """The frame of FluidSynth's ``grid`` nearest each frame (ties later): where a message
    must be sent for its effect to start there (the synth starts it at its next grid frame).

    Parameters
    ----------
    frames : int array
    grid : int
        ``FluidSynth.block_frames``.
    """
    return (np.asarray(frames, np.int64) + grid // 2) // grid * grid


def release_rows(frame) -> np.ndarray:
    """Rows at ``frame`` that let every channel's notes go: pedals up, All Notes Off."""
    return np.array(
        [[frame, 0xB0 | ch, cc, 0] for cc in _RELEASE_CCS for ch in range(16)], np.int64
    )


def render_rows(synth, rows, end_frame, *, tail_sec=3.0, progress=None) -> np.ndarray:
    """Play rows (absolute ``frame, status, data1, data2``) through ``synth``.

    Parameters
    ----------
    synth : FluidSynth or engine.audio.twin.SynthPair
        A pair places notes to +-16 frames instead of -32..+31 (``engine.audio.twin``).
    rows : int64[n, 4]
        Sorted by frame (stable: ties keep their order).
    end_frame : int
        The music's end (at least the last row's frame); the tail follows.
    tail_sec : float
        Longest ring-out after ``end_frame``; cut at the last sample above -90 dBFS.
    progress : bool or None
        A tqdm bar on long renders: None when stderr is a terminal, True always, False never.

    Returns
    -------
    float32[frames, 2]
    """
    from ._segments import compiled

    render_segments = compiled()
    rows = np.array(rows, dtype=np.int64).reshape(-1, 4)
    end_frame = max(int(end_frame), int(rows[-1, 0]) + 1 if len(rows) else 0)
    parts = _parts(synth, rows, end_frame)
    music_end = max([end_frame] + [int(r[-1, 0]) for _, r, _ in parts])  # releases: last
    total = music_end + int(round(tail_sec * synth.sample_rate))
    outs = [np.zeros((2, total), np.float32) for _ in parts]
    for one, _, lead in parts:
        if lead:  # its clock runs ``lead`` frames ahead: its grid is between the other's
            scratch = np.zeros((2, lead), np.float32)
            render_segments(one.ptr, rows[:0], 0, lead, scratch[0], scratch[1])
    bar = _Progress(music_end, synth.sample_rate, progress)
    pos = 0
    try:
        while pos < music_end:
            n = min(CHUNK_FRAMES, music_end - pos)
            for (one, part, _), out in zip(parts, outs):
                starts = part[:, 0]
                lo = np.searchsorted(starts, pos, side="left")
                # rows at the very end go last, after the end's frames (on the grid: in time)
                hi = len(part) if pos + n == music_end else np.searchsorted(starts, pos + n)
                ev = part[lo:hi].copy()
                ev[:, 0] -= pos
                render_segments(one.ptr, ev, len(ev), n, out[0, pos:], out[1, pos:])
            pos += n
            bar.advance(pos)
    finally:
        bar.close()
    last = _ring_out([p[0] for p in parts], outs, music_end, render_segments)
    out = outs[0] if len(outs) == 1 else sum(outs[1:], outs[0])
    if last == total:
        _fade_out(out, int(round(FADE_SEC * synth.sample_rate)))
    return np.ascontiguousarray(out[:, :last].T)


def _parts(synth, rows, end_frame) -> list:
    """[(FluidSynth, its rows snapped to its grid with the releases last, lead frames)]."""
    from .twin import SynthPair, route

    grid = synth.block_frames
    if isinstance(synth, SynthPair):
        a, b = route(rows, grid)
        plan = [(synth.a, a, 0), (synth.b, b, synth.lead_frames)]
    else:
        plan = [(synth, rows, 0)]
    parts = []
    for one, part, lead in plan:
        part = part.copy()
        # a synth ``lead`` frames ahead starts a message at song frames == -lead mod grid
        part[:, 0] = snap(part[:, 0] + lead, grid) - lead
        release = release_rows(int(snap(end_frame + lead, grid)) - lead)
        parts.append((one, np.concatenate([part, release]), lead))
    return parts


def _fade_out(out, frames) -> None:
    """A tail cut at the cap ends in a raised-cosine fade, not a click."""
    frames = min(frames, out.shape[1])
    if frames > 0:
        ramp = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, frames))
        out[:, -frames:] *= ramp.astype(np.float32)


def _ring_out(synths, outs, pos, render_segments) -> int:
    """Render the tail block by block until a silent block (of the sum); returns the frames
    to keep (the music up to ``pos``, then the tail up to its last sample above ``SILENCE``)."""
    end = pos
    empty = np.zeros((0, 4), np.int64)
    step = max(1, int(synths[0].sample_rate) // 20)  # 50 ms
    total = outs[0].shape[1]

    def level(lo, hi):
        mix = outs[0][:, lo:hi] if len(outs) == 1 else sum(o[:, lo:hi] for o in outs)
        return np.abs(mix).max(axis=0)

    while pos < total:
        n = min(step, total - pos)
        for one, out in zip(synths, outs):
            render_segments(one.ptr, empty, 0, n, out[0, pos:], out[1, pos:])
        pos += n
        if level(pos - n, pos).max() < SILENCE:
            break
    if pos == total and level(pos - 1, pos).max() >= SILENCE:
        return total  # still sounding at the cap: the caller fades it
    loud = np.flatnonzero(level(end, pos) >= SILENCE)
    return end + (int(loud[-1]) + 1 if loud.size else 0)


def encode_gain(audio) -> float:
    """The gain every format of ``audio`` is written with: 1, or ``PEAK / peak`` when the
    peak is over full scale (float files too: players clip them at 0 dBFS)."""
    peak = float(np.abs(audio).max()) if np.size(audio) else 0.0
    return PEAK / peak if peak > 1.0 else 1.0


def encode(audio, sample_rate, fmt="WAV", subtype="PCM_24", gain=None) -> bytes:
    """Audio (float32[frames, 2]) as WAV/FLAC bytes, times ``gain`` (default
    ``encode_gain(audio)``, the same for every format)."""
    try:
        import soundfile
    except ImportError:
        raise ValueError("--wav needs the soundfile package: pip install 'groove[audio]'") from None
    gain = encode_gain(audio) if gain is None else gain
    if gain != 1.0:
        audio = audio * np.float32(gain)
    buf = io.BytesIO()
    soundfile.write(buf, audio, int(round(sample_rate)), subtype=subtype, format=fmt)
    return buf.getvalue()


def gain_notice(path, audio, gain) -> str:
    """The one line saying a render was scaled down (for stderr), or ""."""
    if gain == 1.0:
        return ""
    peak_db = 20 * np.log10(float(np.abs(audio).max()))
    return (
        f"--wav: {path}: the mix peaks at {peak_db:+.1f} dBFS; scaled by "
        f"{20 * np.log10(gain):.1f} dB so it does not clip (lower the file's volumes "
        "to keep its level)"
    )


def write_audio(path, audio, sample_rate, depth="24", notice=None) -> float:
    """Write audio atomically (``engine.atomic``) as WAV or FLAC by the name's ending.

    ``notice`` (e.g. ``print`` to stderr) gets ``gain_notice``'s line when the audio
    is scaled down.  Returns the gain it was written with.

    Raises
    ------
    OSError
        ``--wav: PATH: cannot write (why)``.
    """
    from engine.atomic import write_bytes

    fmt, subtype = check_output(path, depth)
    gain = encode_gain(audio)
    data = encode(audio, sample_rate, fmt, subtype, gain)
    try:
        write_bytes(path, data)
    except OSError as exc:
        raise OSError(f"--wav: {path}: cannot write ({exc.strerror or exc})") from None
    line = gain_notice(path, audio, gain)
    if line and notice is not None:
        notice(line)
    return gain


__all__ = [
    "SynthError",
    "check_output",
    "encode",
    "encode_gain",
    "gain_notice",
    "open_synth",
    "release_rows",
    "render_rows",
    "snap",
    "write_audio",
]
