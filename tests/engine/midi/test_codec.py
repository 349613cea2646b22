"""The compiled SMF codec against the reader, tables and output it replaced.

``smf_reference`` is the reader as it was (one Python pass per track, meta
and sysex by mido's decoders) and the assembler's old lexsort ordering;
every file of the fixtures, the shared corpora and a seeded corpus of odd
files (every meta type at every length, sysex, escapes, system messages,
running status, over-long numbers, truncations) must give the same mido
messages, the same error sentence, the same table and the same rendered
bytes, compiled and as plain Python.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mido
import numpy as np
import pytest

import groove
from engine.midi import _smf_codec, _smf_decode, assemble, direct, midifile
from engine.midi.midifile import MidiFileError
from engine.midi.notetable import EventTable
from engine.midi.render import render_file
from groove import _numba

from . import smf_reference as ref

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "midi"
SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
TABLE_FIELDS = (
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
)
CONFIGS = {
    "swing": (lambda: groove.swing(60), {}),
    "quantize-random": (
        lambda: "swing16-58",
        dict(quantize=0.5, random_ms=4, random_velocity=5, seed=3),
    ),
    "still": (lambda: "swing16-58", dict(timing=0)),
    "resolution": (lambda: groove.swing(55), dict(resolution=960)),
}


def _varlen(value: int, extra: int = 0) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.insert(0, 0x80 | (value & 0x7F))
        value >>= 7
    return bytes([0x80] * extra + out)  # extra: a non-minimal (padded) encoding


# meta type -> payload lengths to try (mido decodes these to fixed lengths)
META_LENGTHS = {
    0x00: (0, 1, 2, 3),
    0x20: (0, 1, 2),
    0x21: (0, 1, 2),
    0x51: (2, 3, 4),
    0x54: (4, 5, 6),
    0x58: (3, 4, 5),
    0x59: (1, 2, 3),
}
OTHER_METAS = (0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x7F, 0x60, 0xE0)


def _meta(rng, kind) -> bytes:
    if kind in META_LENGTHS and rng.random() < 0.9:
        n = _smf_codec.META_LENGTH[kind]
    else:
        n = int(rng.choice(META_LENGTHS.get(kind, (0, 1, 3, 7))))
    payload = rng.integers(0, 256, n)
    if kind == 0x54 and n and rng.random() < 0.9:  # mostly valid smpte fields
        payload[: min(n, 5)] = [rng.integers(0, 128), 30, 58 + rng.integers(0, 3), 3, 98][:n]
    if kind == 0x58 and n > 1:
        payload[1] = (
            rng.integers(0, 40) if rng.random() < 0.2 else rng.integers(0, 6)
        )  # exponents around those mido refuses (29, ...)
    if kind == 0x59 and n > 1 and rng.random() < 0.95:
        payload[0] = (rng.integers(-9, 10) if rng.random() < 0.2 else rng.integers(-7, 8)) & 0xFF
        payload[1] = rng.integers(0, 3) if rng.random() < 0.2 else rng.integers(0, 2)
    return b"\xff" + bytes([kind]) + _varlen(n, int(rng.random() < 0.1)) + bytes(payload.tolist())


def _event(rng, running):
    """(bytes, running status after it: None for none)."""
    r = rng.random()
    if r < 0.6:
        status = int(rng.integers(0x80, 0xF0))
        if running is not None and rng.random() < 0.5:
            status = running  # written with running status: no status byte
        size = 1 if 0xC0 <= status < 0xE0 else 2
        data = rng.integers(0, 128, size)
        if rng.random() < 0.003:
            data[-1] = 200
        head = b"" if status == running else bytes([status])
        return head + bytes(data.tolist()), status
    if r < 0.85:
        kinds = list(META_LENGTHS) + list(OTHER_METAS)
        return _meta(rng, int(rng.choice(kinds))), running
    if r < 0.99:
        body = rng.integers(0, 128, rng.integers(0, 6)).tolist()
        if rng.random() < 0.5:
            body = [0xF0, *body]
        if rng.random() < 0.6:
            body = [*body, 0xF7]
        if rng.random() < 0.01:
            body.insert(0, 0x99)
        head = 0xF0 if rng.random() < 0.7 else 0xF7
        return bytes([head]) + _varlen(len(body)) + bytes(body), None
    status = int(rng.choice([0xF1, 0xF2, 0xF3, 0xF6, 0xF8, 0xFA, 0xFE, 0xF4]))
    size = {0xF1: 1, 0xF2: 2, 0xF3: 1}.get(status, 0)
    return bytes([status]) + bytes(rng.integers(0, 129, size).tolist()), None


def odd_file(seed: int) -> bytes:
    """A small format-1 file with every kind of event, sometimes broken on purpose."""
    rng = np.random.default_rng(seed)
    chunks = []
    n_tracks = int(rng.integers(1, 4))
    for _ in range(n_tracks):
        body, running = bytearray(), None
        for _ in range(int(rng.integers(1, 30))):
            delta = int(rng.choice([0, 0, 1, 120, 480, 20000, 1 << 27]))
            ev, running = _event(rng, running)
            body += _varlen(delta, int(rng.random() < 0.05)) + ev
        if rng.random() < 0.9:
            body += b"\x00\xff\x2f\x00"
        if rng.random() < 0.05:
            body = body[: -int(rng.integers(1, 4))]  # an event runs past the chunk
        chunks.append(b"MTrk" + len(body).to_bytes(4, "big") + bytes(body))
    head = b"MThd\x00\x00\x00\x06\x00\x01" + n_tracks.to_bytes(2, "big") + b"\x01\xe0"
    return head + b"".join(chunks)


def _files():
    files = sorted(FIXTURES.rglob("*.mid"))
    if (SHARED / "midi-edge").is_dir():
        files += sorted((SHARED / "midi-edge").rglob("*.mid"))
    if (SHARED / "gmd").is_dir():
        files += sorted((SHARED / "gmd").rglob("*.mid"))[::10]
    return files


@pytest.fixture(scope="module")
def odd_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("odd")
    for seed in range(300):
        (folder / f"odd-{seed:03d}.mid").write_bytes(odd_file(seed))
    return folder


def _outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except MidiFileError as exc:
        assert "\n" not in str(exc)
        return "error", str(exc)


def _all(odd_dir):
    return _files() + sorted(odd_dir.glob("*.mid"))


def test_odd_corpus_covers_good_and_bad_files(odd_dir):
    kinds = [_outcome(midifile.read_raw, p)[0] for p in odd_dir.glob("*.mid")]
    assert 60 < kinds.count("ok") < 240, kinds.count("ok")


def test_messages_and_errors_equal_the_old_reader(odd_dir):
    compared = 0
    for path in _all(odd_dir):
        want = _outcome(ref.read, path)
        got = _outcome(midifile.read, path)
        assert got[0] == want[0], (path, got, want)
        if want[0] == "error":
            assert got[1] == want[1], path
            raw = _outcome(midifile.read_raw, path)
            assert raw == want, path
            continue
        a, b = got[1], want[1]
        assert (a.type, a.ticks_per_beat) == (b.type, b.ticks_per_beat)
        assert [list(t) for t in a.tracks] == [list(t) for t in b.tracks], path
        compared += 1
    assert compared > 150


def test_decoded_messages_equal_mido(odd_dir):
    """mido's own reader, except the two behaviours _smf_decode documents."""
    compared = 0
    for path in _files() + sorted(odd_dir.glob("*.mid")):
        try:
            ours = midifile.read(path)
            theirs = mido.MidiFile(path, clip=False)
        except (MidiFileError, OSError, ValueError, EOFError, KeyError, IndexError):
            continue
        if path.name in ("alien-chunk.mid", "test-non-midi-track.mid"):
            continue  # mido stops at an alien chunk
        for a, b in zip(ours.tracks, theirs.tracks):  # mido may stop early
            for x, y in zip(a, b, strict=True):
                if y.type == "unknown_meta":  # mido drops an unknown meta's delta time
                    assert (x.type_byte, x.data) == (y.type_byte, y.data)
                elif y.type != "sysex":  # mido keeps sysex as running status
                    assert x == y, path
        compared += 1
    assert compared > 10


def _tables_equal(a, b):
    for name in TABLE_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(x, y) and x.shape == y.shape, name
    assert (a.fmt, a.ticks_per_beat, a.tempos, a.time_signatures, a.names) == (
        b.fmt,
        b.ticks_per_beat,
        b.tempos,
        b.time_signatures,
        b.names,
    )


def test_tables_equal_the_old_reader(odd_dir):
    checked = 0
    for path in _all(odd_dir):
        try:
            old = EventTable.from_midifile(ref.read(path), path)
        except MidiFileError as exc:
            with pytest.raises(MidiFileError) as info:
                EventTable.from_raw(midifile.read_raw(path), path)
            assert str(info.value) == str(exc)
            continue
        _tables_equal(EventTable.from_raw(midifile.read_raw(path), path), old)
        checked += 1
    assert checked > 150


def _old_render(path, preset, monkeypatch, **opts):
    """The bytes the old pipeline wrote: old reader, old ordering and gathering."""
    with monkeypatch.context() as m:
        m.setattr(assemble, "_note_order", ref.note_order)
        m.setattr(assemble, "_order", ref.order)
        m.setattr(assemble, "_gather", ref.gather)
        preset = direct.as_preset(preset)
        table = EventTable.from_midifile(ref.read(path), path)
        out, _ = direct._render_table(table, preset, direct.Options.make(preset, **opts))
        return out.encode()


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_rendered_bytes_equal_the_old_pipeline(config, odd_dir, tmp_path, monkeypatch):
    preset, opts = CONFIGS[config]
    checked = 0
    for path in _all(odd_dir):
        try:
            want = _old_render(path, preset(), monkeypatch, **opts)
        except MidiFileError as exc:
            with pytest.raises(MidiFileError) as info:
                render_file(path, tmp_path / "o.mid", preset(), **opts)
            assert str(info.value) == str(exc)
            continue
        render_file(path, tmp_path / "o.mid", preset(), **opts)
        assert (tmp_path / "o.mid").read_bytes() == want, path
        checked += 1
    assert checked > 150


def _big_file(path, n_notes=30_000):
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
    try:
        from bench_render import make_file
    finally:
        sys.path.pop(0)
    make_file(path, n_notes)


def test_big_file_renders_as_the_old_pipeline(tmp_path, monkeypatch):
    """Large enough for the compiled kernels (and the almost-sorted fast paths)."""
    src = tmp_path / "big.mid"
    _big_file(src)
    for config in ("swing", "quantize-random"):
        preset, opts = CONFIGS[config]
        render_file(src, tmp_path / "o.mid", preset(), **opts)
        assert (tmp_path / "o.mid").read_bytes() == _old_render(src, preset(), monkeypatch, **opts)


def _columns(data: bytes):
    raw = midifile.parse_raw(data)
    ev = raw.events
    return [ev.track_start, ev.tick, ev.status, ev.data1, ev.data2, ev.xrow, ev.xtype, ev.xpos]


def _table(data: bytes):
    return EventTable.from_raw(midifile.parse_raw(data))


@pytest.mark.parametrize("seed", range(0, 300, 7))
def test_python_and_compiled_kernels_agree(seed, odd_dir, tmp_path):
    big = tmp_path / "big.mid"
    data = [odd_file(seed), (odd_dir / f"odd-{seed:03d}.mid").read_bytes()]
    if seed == 0:
        _big_file(big, 12_000)
        data.append(big.read_bytes())
    for blob in data:
        runs = []
        for mode in ("never", "always"):
            old = _numba.set_mode(mode)
            try:
                got = _outcome(_columns, blob)
                table = _outcome(_table, blob)
            finally:
                _numba.set_mode(old)
            runs.append((got, table))
        (a, ta), (b, tb) = runs
        assert a[0] == b[0]
        if a[0] == "error":
            assert a == b and ta == tb
            continue
        for x, y in zip(a[1], b[1], strict=True):
            assert np.array_equal(x, y)
        if ta[0] == "ok":
            _tables_equal(ta[1], tb[1])


def test_meta_errors_read_as_mido_says():
    cases = {
        b"\xff\x59\x02\xf7\x00": "Could not decode key with 9 flats and mode 0",
        b"\xff\x59\x02\x03\x02": "Could not decode key with 3 flats and mode 2",
        b"\xff\x59\x02\x08\x00": "Could not decode key with 8 sharps and mode 0",
        b"\xff\x58\x04\x04\x1d\x18\x08": "denominator must be a power of 2",
        b"\xff\x54\x05\x80\x00\x00\x00\x00": "KeyError: 4",
        b"\xff\x54\x05\x00\x3c\x00\x00\x00": "attribute must be in range 0..59",
        b"\xff\x54\x05\x00\x00\x00\x00\x64": "attribute must be in range 0..99",
        b"\xff\x51\x02\x07\xa1": "IndexError: list index out of range",
        b"\xff\x00\x01\x05": "IndexError",
        b"\xf1\x80": "quarter_frame message: data byte must be in range 0..127",
    }
    for event, words in cases.items():
        body = b"\x00" + event + b"\x00\xff\x2f\x00"
        data = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk" + len(body).to_bytes(4, "big")
        with pytest.raises(MidiFileError) as info:
            midifile.parse_raw(data + body, "x.mid")
        with pytest.raises(MidiFileError) as old:
            ref.parse(data + body, "x.mid")
        assert words in str(info.value) and str(info.value) == str(old.value)


def test_unmoved_events_keep_their_bytes(tmp_path):
    """A file as mido writes it (minimal numbers, running status) comes back byte for byte."""
    track = mido.MidiTrack(
        [
            mido.MetaMessage("track_name", name="drums é"),
            mido.MetaMessage("set_tempo", tempo=400000),
            mido.MetaMessage("time_signature", numerator=7, denominator=8),
            mido.MetaMessage("key_signature", key="F#m"),
            mido.MetaMessage("smpte_offset", frame_rate=29.97, hours=1, minutes=2),
            mido.MetaMessage("sequencer_specific", data=(1, 2, 3)),
            mido.UnknownMetaMessage(0x60, (97, 98)),
            mido.Message("sysex", data=(0x7E, 0x7F, 0x09, 0x01)),
            mido.Message("control_change", control=7, value=100),
            mido.Message("pitchwheel", pitch=-300, time=5),
            mido.Message("note_on", note=36, velocity=100, time=10),
            mido.Message("note_on", note=36, velocity=0, time=100),
            mido.Message("program_change", program=5, time=3),
            mido.Message("note_on", note=38, velocity=90, time=20),
            mido.Message("note_off", note=38, velocity=30, time=200),
            mido.MetaMessage("marker", text="end", time=7),
        ]
    )
    src = tmp_path / "in.mid"
    mido.MidiFile(type=1, ticks_per_beat=480, tracks=[track]).save(src)
    render_file(src, tmp_path / "still.mid", "swing16-58", timing=0)
    assert (tmp_path / "still.mid").read_bytes() == src.read_bytes()
    render_file(src, tmp_path / "moved.mid", groove.swing(66))
    moved = (tmp_path / "moved.mid").read_bytes()
    table = EventTable.from_raw(midifile.read_raw(src))
    for row in np.flatnonzero(table.blob_len > 0):
        start, size = table.blob_start[row], table.blob_len[row]
        assert table.blob[start : start + size].tobytes() in moved


def test_sysex_and_escapes_are_written_as_today():
    body = b"\x00\xf0\x03\x43\x12\xf7\x00\xf7\x02\xf0\x01\x00\xf0\x02\x01\x02\x00\xff\x2f\x00"
    data = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk" + len(body).to_bytes(4, "big")
    table = EventTable.from_raw(midifile.parse_raw(data + body))
    blobs = [
        table.blob[s : s + n].tobytes()
        for s, n in zip(table.blob_start, table.blob_len, strict=True)
        if n
    ]
    # mido keeps the data without a leading F0 / closing F7 and writes F0 <n> data F7
    assert blobs == [b"\xf0\x03\x43\x12\xf7", b"\xf0\x02\x01\xf7", b"\xf0\x03\x01\x02\xf7"]


def test_codec_tables_follow_mido_meta_lengths():
    assert _smf_codec.META_LENGTH == {0x00: 2, 0x20: 1, 0x21: 1, 0x51: 3, 0x54: 5, 0x58: 4, 0x59: 2}
    for k in range(256):  # mido's check: math.log(2**k, 2) must be an integer
        msg = mido.MetaMessage("time_signature")
        try:
            msg.denominator = 2**k
            ok = True
        except ValueError:
            ok = False
        assert bool(_smf_codec._DENOMINATOR_OK[k]) == ok, k
    assert set(_smf_decode.SYSTEM_TYPES) == {
        s for s in range(0xF1, 0xFF) if s not in (0xF4, 0xF5, 0xF7, 0xF9, 0xFD)
    }


def test_render_command_never_imports_mido(tmp_path):
    code = (
        "import sys\n"
        "from engine.cli import main\n"
        f"code = main(['render', {str(FIXTURES / 'mixed.mid')!r}, '-p', 'swing16-58', "
        f"'-o', {str(tmp_path / 'out.mid')!r}])\n"
        "assert code in (0, None), code\n"
        "print('mido' in sys.modules)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        check=True,
    )
    assert res.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "out.mid").stat().st_size > 0


def _one_track(body: bytes) -> bytes:
    head = b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk"
    return head + len(body).to_bytes(4, "big") + body


NOTES = b"\x00\x90\x3c\x40\x30\x80\x3c\x40"
EOT = b"\x00\xff\x2f\x00"
#: Lengths so long that ``i + length`` passes int64's end (review of issue 14: the
#: compiled scan read outside the file and crashed; plain Python raised IndexError).
HUGE_LENGTHS = {
    "meta, ten FF bytes": NOTES + b"\x00\xff\x01" + b"\xff" * 10 + b"\x7f" + EOT,
    "meta, 2**62": NOTES + b"\x00\xff\x01" + _varlen(2**62) + b"\x01" + EOT,
    "sysex, 2**60": NOTES + b"\x00\xf0" + _varlen(2**60) + b"\x01" + EOT,
    "sysex, ten FF bytes": NOTES + b"\x00\xf0" + b"\xff" * 10 + b"\x7f\x01" + EOT,
    "escape, 2**63 - 1": NOTES + b"\x00\xf7" + _varlen(2**63 - 1) + b"\x01" + EOT,
}
#: Absolute ticks past TICK_LIMIT: deltas summing past int64, or over-long numbers
#: (9+ bytes) that used to be cut silently.
HUGE_TICKS = {
    "two deltas of 2**62": NOTES + _varlen(2**62) + b"\x80\x3c\x40" + _varlen(2**62) + EOT[1:],
    "delta 2**70": NOTES + _varlen(2**70) + b"\x80\x3c\x40" + EOT,
    "ten-byte delta": NOTES + b"\x81" * 9 + b"\x01" + b"\x80\x3c\x40" + EOT,
    "delta 2**53 + 1": NOTES + _varlen(2**53 + 1) + EOT[1:],
}
_DECODE_CHILD = """
import json, sys
from engine.midi import midifile
out = {}
for name, blob in json.loads(sys.stdin.read()).items():
    try:
        raw = midifile.parse_raw(bytes.fromhex(blob), "x.mid")
        out[name] = ["ok", raw.events.tick.tolist()]
    except Exception as exc:
        out[name] = [type(exc).__name__, str(exc)]
print(json.dumps(out))
"""


def _decode_in_child(blobs: dict, mode: str) -> dict:
    """Decode in a fresh process (a compiled read outside the buffer may crash it)."""
    import json

    done = subprocess.run(
        [sys.executable, "-c", _DECODE_CHILD],
        input=json.dumps({k: _one_track(v).hex() for k, v in blobs.items()}),
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        env={**__import__("os").environ, "GROOVE_JIT": mode},
    )
    assert done.returncode == 0, (mode, done.returncode, done.stderr[-500:])
    return json.loads(done.stdout)


@pytest.mark.parametrize("mode", ["never", "always"])
def test_huge_meta_and_sysex_lengths_are_refused_as_before(mode):
    got = _decode_in_child(HUGE_LENGTHS, mode)
    for name, body in HUGE_LENGTHS.items():
        with pytest.raises(MidiFileError) as old:
            ref.parse(_one_track(body), "x.mid")
        assert got[name] == ["MidiFileError", str(old.value)], name


@pytest.mark.parametrize("mode", ["never", "always"])
def test_ticks_past_the_limit_are_one_clear_error(mode):
    got = _decode_in_child(HUGE_TICKS, mode)
    for name in HUGE_TICKS:
        kind, text = got[name]
        assert kind == "MidiFileError", (name, got[name])
        assert text == (
            f"x.mid: track 0 (byte {text.split('(byte ')[1].split(')')[0]}): this event's "
            f"time passes tick {2**53} (2**53, the latest groove can hold exactly); its "
            "delta time is wrong or the file is corrupt"
        ), name
    assert got["delta 2**53 + 1"][1].startswith("x.mid: track 0 (byte 30):")


@pytest.mark.parametrize("mode", ["never", "always"])
def test_long_numbers_below_the_limit_stay_lossless(mode):
    ok = {
        "ten-byte 5": NOTES + b"\x80" * 9 + b"\x05" + b"\x80\x3c\x40" + EOT,
        "delta 2**53 - 48": NOTES + _varlen(2**53 - 48) + EOT[1:],
        "text, ten-byte 3": b"\x00\xff\x01" + b"\x80" * 9 + b"\x03abc" + NOTES + EOT,
    }
    got = _decode_in_child(ok, mode)
    assert got["ten-byte 5"] == ["ok", [0, 48, 53, 53]]
    assert got["delta 2**53 - 48"] == ["ok", [0, 48, 2**53]]
    assert got["text, ten-byte 3"] == ["ok", [0, 0, 48, 48]]
    for body in ok.values():
        old = [list(t) for t in ref.parse(_one_track(body)).tracks]
        assert [list(t) for t in midifile.parse(_one_track(body)).tracks] == old
