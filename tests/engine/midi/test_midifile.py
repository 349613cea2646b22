"""engine.midi.midifile: strict reading with one-line errors, atomic writing."""

from __future__ import annotations

import io
import os
from pathlib import Path

import mido
import pytest

from engine.midi import midifile
from engine.midi.midifile import MidiFileError

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "midi"
BROKEN = FIXTURES / "broken"

# fixture -> words the reason must contain
EXPECTED = {
    "empty.mid": "empty",
    "not-midi.mid": "RIFF",
    "truncated-header.mid": "truncated header",
    "truncated-track.mid": "declares 32 bytes but only 9 remain",
    "chunk-too-short.mid": "runs past the end of its chunk",
    "running-status-without-status.mid": "running status",
    "data-byte-above-127.mid": "above 127",
    "sysex-byte-above-127.mid": "above 127",
    "smpte.mid": "SMPTE",
    "zero-tracks.mid": "no tracks",
    "format-3.mid": "format 3",
    "format0-two-tracks.mid": "format 0",
    "garbage-chunk.mid": "no valid type",
    "undefined-status.mid": "undefined status byte",
    "missing-tracks.mid": "declares 3 tracks",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_files_give_one_line_errors(name):
    path = BROKEN / name
    with pytest.raises(MidiFileError) as info:
        midifile.read(path)
    err = info.value
    assert err.path == str(path) and EXPECTED[name] in err.reason
    assert str(err) == f"{path}: {err.reason}" and "\n" not in str(err)
    assert isinstance(err, ValueError)


def test_every_broken_fixture_is_listed():
    assert sorted(p.name for p in BROKEN.glob("*.mid")) == sorted(
        set(EXPECTED) | {"realtime-in-track.mid"}
    )


def test_realtime_message_is_refused_when_tabled():
    from engine.midi.notetable import EventTable

    mid = midifile.read(BROKEN / "realtime-in-track.mid")
    with pytest.raises(MidiFileError, match="'clock' message"):
        EventTable.from_midifile(mid, "x.mid")


def test_missing_file_and_directory():
    with pytest.raises(MidiFileError, match="cannot be read"):
        midifile.read(FIXTURES / "nope.mid")
    with pytest.raises(MidiFileError, match="is a directory"):
        midifile.read(FIXTURES)


def test_alien_chunk_is_skipped():
    mid = midifile.read(FIXTURES / "alien-chunk.mid")
    assert [m.type for m in mid.tracks[0]] == ["note_on", "note_off", "end_of_track"]


def test_track_without_end_and_trailing_bytes():
    mid = midifile.read(FIXTURES / "no-end-of-track.mid")
    assert [m.type for m in mid.tracks[0]] == ["note_on", "note_off"]


def test_unknown_meta_survives_byte_for_byte(tmp_path):
    import groove
    from engine.midi.render import render_file

    render_file(FIXTURES / "unknown-meta.mid", tmp_path / "o.mid", groove.swing(60))
    assert b"\x00\xff\x60\x03abc" in (tmp_path / "o.mid").read_bytes()


def test_large_track_count_is_read_unsigned():
    body = b"MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"
    data = b"MThd\x00\x00\x00\x06\x00\x01\x9c\x40\x01\xe0" + body * 40000
    mid = midifile.parse(data, "many.mid")
    assert len(mid.tracks) == 40000


def test_mido_exceptions_never_escape():
    # every prefix of a valid file is either readable or a MidiFileError
    data = (FIXTURES / "mixed.mid").read_bytes()
    for cut in range(len(data)):
        try:
            midifile.parse(data[:cut], "cut.mid")
        except MidiFileError as exc:
            assert "\n" not in str(exc)


def test_parse_agrees_with_mido_on_good_files():
    for path in FIXTURES.glob("*.mid"):
        if path.name in ("alien-chunk.mid",):
            continue
        ours = midifile.read(path)
        theirs = mido.MidiFile(path)
        assert ours.type == theirs.type and ours.ticks_per_beat == theirs.ticks_per_beat
        assert [list(t) for t in ours.tracks] == [list(t) for t in theirs.tracks]


def test_atomic_write_replaces_only_when_complete(tmp_path, monkeypatch):
    target = tmp_path / "out.mid"
    target.write_bytes(b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        midifile.write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.mid"]  # no temp file left
    monkeypatch.undo()
    midifile.write_bytes(target, b"new")
    assert target.read_bytes() == b"new"


def test_write_midifile_and_to_bytes():
    mid = midifile.read(FIXTURES / "mixed.mid")
    buf = io.BytesIO()
    mid.save(file=buf)
    assert midifile.to_bytes(mid) == buf.getvalue()
    bad = mido.MidiFile(type=0, tracks=[mido.MidiTrack(), mido.MidiTrack()])
    with pytest.raises(MidiFileError, match="cannot be written"):
        midifile.to_bytes(bad, "bad.mid")


SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"


def _corpus():
    files = []
    if (SHARED / "gmd").is_dir():
        files += sorted((SHARED / "gmd").rglob("*.mid"))[::20]
    if (SHARED / "midi-edge").is_dir():
        files += sorted(
            p
            for p in (SHARED / "midi-edge").rglob("*.mid")
            if "empty-" not in p.name or p.name.startswith("empty-0000")
        )
    return files


@pytest.mark.skipif(not _corpus(), reason=f"shared data absent: {SHARED}")
def test_reader_gives_mido_messages_on_corpora():
    """Where mido reads a file and we accept it, the messages are mido's own."""
    compared = 0
    for path in _corpus():
        try:
            ours = midifile.read(path)
        except MidiFileError:
            continue
        if path.name == "test-non-midi-track.mid":  # mido stops at the alien chunk
            continue
        theirs = mido.MidiFile(path, clip=False)
        assert (ours.type, ours.ticks_per_beat) == (theirs.type, theirs.ticks_per_beat)
        for a, b in zip(ours.tracks, theirs.tracks):
            b = [m for m in b]
            assert len(a) == len(b)
            for x, y in zip(a, b):
                if y.type == "unknown_meta":  # mido drops an unknown meta's delta time
                    assert (x.type_byte, x.data) == (y.type_byte, y.data)
                else:
                    assert x == y, path
        compared += 1
    assert compared > 100


@pytest.mark.skipif(not _corpus(), reason=f"shared data absent: {SHARED}")
def test_tables_from_bytes_and_from_mido_agree():
    """EventTable.from_raw (no mido object per note) equals EventTable.from_midifile."""
    import numpy as np

    from engine.midi.notetable import EventTable

    files = _corpus() + sorted(FIXTURES.glob("*.mid"))
    checked = 0
    for path in files:
        try:
            a = EventTable.from_raw(midifile.read_raw(path), path)
        except MidiFileError as exc:
            with pytest.raises(MidiFileError) as again:
                EventTable.from_midifile(midifile.read(path), path)
            assert str(again.value) == str(exc)
            continue
        b = EventTable.from_midifile(midifile.read(path), path)
        for name in (
            "tick",
            "track",
            "kind",
            "status",
            "data1",
            "data2",
            "blob",
            "blob_start",
            "blob_len",
            "track_start",
        ):
            assert np.array_equal(getattr(a, name), getattr(b, name)), (path, name)
        assert (a.fmt, a.ticks_per_beat, a.tempos, a.time_signatures, a.names) == (
            b.fmt,
            b.ticks_per_beat,
            b.tempos,
            b.time_signatures,
            b.names,
        )
        checked += 1
    assert checked > 100
