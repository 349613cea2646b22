"""Property tests of rendering over random small files built with mido."""

from __future__ import annotations

import io

import mido
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import groove
from engine.midi import midifile
from engine.midi.direct import Options, _render_table
from engine.midi.notetable import EventTable
from engine.midi.render import render
from engine.presets.model import Preset

from . import midi_reference as ref

PITCHES = st.sampled_from([36, 38, 42, 60])  # few pitches: overlaps happen


@st.composite
def channel_event(draw, tick):
    kind = draw(st.sampled_from(["cc", "bend", "program", "touch", "poly"]))
    ch = draw(st.integers(0, 2))
    if kind == "cc":
        return mido.Message(
            "control_change",
            channel=ch,
            control=draw(st.integers(0, 127)),
            value=draw(st.integers(0, 127)),
        )
    if kind == "bend":
        return mido.Message("pitchwheel", channel=ch, pitch=draw(st.integers(-8192, 8191)))
    if kind == "program":
        return mido.Message("program_change", channel=ch, program=draw(st.integers(0, 127)))
    if kind == "touch":
        return mido.Message("aftertouch", channel=ch, value=draw(st.integers(0, 127)))
    return mido.Message(
        "polytouch", channel=ch, note=draw(PITCHES), value=draw(st.integers(0, 127))
    )


@st.composite
def fixed_event(draw):
    kind = draw(st.sampled_from(["text", "tempo", "sysex", "unknown"]))
    if kind == "text":
        return mido.MetaMessage("marker", text=draw(st.text("abc xyz", max_size=5)))
    if kind == "tempo":
        return mido.MetaMessage("set_tempo", tempo=draw(st.integers(200_000, 1_500_000)))
    if kind == "sysex":
        return mido.Message("sysex", data=draw(st.lists(st.integers(0, 127), max_size=4)))
    return mido.UnknownMetaMessage(0x60, data=draw(st.lists(st.integers(0, 255), max_size=3)))


@st.composite
def track(draw, span):
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        start = draw(st.integers(0, span))
        length = draw(st.integers(0, span // 4))
        ch, pitch = draw(st.integers(0, 2)), draw(PITCHES)
        off = (
            mido.Message("note_on", channel=ch, note=pitch, velocity=0)
            if draw(st.booleans())
            else mido.Message("note_off", channel=ch, note=pitch)
        )
        rows += [
            (
                start,
                mido.Message("note_on", channel=ch, note=pitch, velocity=draw(st.integers(1, 127))),
            ),
            (start + length, off),
        ]
    for _ in range(draw(st.integers(0, 5))):
        tick = draw(st.integers(0, span))
        rows.append((tick, draw(channel_event(tick))))
    for _ in range(draw(st.integers(0, 3))):
        rows.append((draw(st.integers(0, span)), draw(fixed_event())))
    rows.sort(key=lambda r: r[0])  # stable: a note's off never precedes its on
    out, now = mido.MidiTrack(), 0
    for tick, msg in rows:
        out.append(msg.copy(time=tick - now))
        now = tick
    out.append(mido.MetaMessage("end_of_track", time=draw(st.integers(0, 50))))
    return out


@st.composite
def midi_files(draw):
    tpb = draw(st.sampled_from([96, 120, 480, 960]))
    span = tpb * 4
    tracks = draw(st.lists(track(span), min_size=1, max_size=3))
    return mido.MidiFile(type=1, ticks_per_beat=tpb, tracks=tracks)


def save(mid) -> bytes:
    buf = io.BytesIO()
    mid.save(file=buf)
    return buf.getvalue()


def non_channel(mid):
    return [
        sorted(
            (tick, bytes(m.bin()))
            for tick, m in rows
            if (not m.is_meta and m.type == "sysex") or (m.is_meta and m.type != "end_of_track")
        )
        for rows in ref.absolute(mid)
    ]


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AMOUNTS = dict(
    amount=st.floats(30, 75),
    timing=st.floats(0, 1),
    quantize=st.floats(0, 1),
    random_ms=st.sampled_from([0.0, 5.0, 25.0]),
    ends=st.sampled_from(["groove", "keep"]),
)


@SETTINGS
@given(mid=midi_files(), **AMOUNTS)
def test_render_invariants(mid, amount, timing, quantize, random_ms, ends):
    g = groove.swing(amount)
    preset = Preset.from_groove(g)
    kw = dict(timing=timing, quantize=quantize, random_ms=random_ms, ends=ends, seed=1)
    table, _ = _render_table(EventTable.from_midifile(mid), preset, Options.make(preset, **kw))
    out = table.to_midifile()
    data = table.encode()
    assert data == save(out)  # the fast encoder writes what mido writes
    back = midifile.parse(data)  # loads back (mido itself drops unknown metas' delta times)
    assert len(mido.MidiFile(file=io.BytesIO(data)).tracks) == len(out.tracks)
    assert [list(t) for t in back.tracks] == [list(t) for t in out.tracks]
    assert non_channel(out) == non_channel(mid)  # meta and sysex: same bytes, same ticks
    for rows_in, rows_out in zip(ref.absolute(mid), ref.absolute(out)):
        notes_in, _ = ref.pair(rows_in)
        notes_out, orphans = ref.pair(rows_out)
        assert len(notes_out) == len(notes_in) and not orphans
        assert all(n["end"] is not None and n["end"] >= n["start"] for n in notes_out)
        moved = len(notes_in) and any(
            a["start"] != b["start"]
            for a, b in zip(
                sorted(notes_in, key=lambda n: n["start"]),
                sorted(notes_out, key=lambda n: n["start"]),
            )
        )
        if moved and random_ms == 0 and timing > 0:
            assert sum(n["end"] == n["start"] for n in notes_out) <= sum(
                n["end"] == n["start"] for n in notes_in
            )
    if random_ms == 0:
        exp = ref.expected(
            mid, ref.LinearGroove.swing(amount), timing=timing, quantize=quantize, ends=ends
        )
        problems = ref.compare(exp, ref.observed(out))
        assert not problems, problems[:3]


@SETTINGS
@given(mid=midi_files(), amount=st.floats(30, 75))
def test_zero_amounts_are_identity(mid, amount):
    out = render(mid, groove.swing(amount), timing=0, quantize=0, velocity=0, random_ms=0)
    assert [list(t) for t in out.tracks] == [list(t) for t in mid.tracks]
    assert save(out) == save(mid)


@SETTINGS
@given(mid=midi_files(), tpb=st.sampled_from([24, 96, 1000]))
def test_resolution_change_matches_reference(mid, tpb):
    out = render(mid, groove.swing(60), resolution=tpb)
    assert out.ticks_per_beat == tpb
    exp = ref.expected(mid, ref.LinearGroove.swing(60), tpb_out=tpb)
    problems = ref.compare(exp, ref.observed(out))
    assert not problems, problems[:3]
