"""No stuck notes: SIGTERM, SIGINT, MIDI Stop and a lost port end every sounding note.

``groove live`` runs as a subprocess on the test JACK server; the harness
holds notes down and then ends the session (or the transport, or its own
connection); afterwards every key's note-ons must equal its note-offs.
"""

import itertools
import signal

import pytest

from .jack_harness import START, STOP, JackHarness, LiveProcess, balance

pytestmark = pytest.mark.live
_names = itertools.count()


@pytest.fixture
def live(jack_server):
    """Start ``groove live`` with the given arguments; always stopped afterwards."""
    started = []

    def start(*args):
        name = f"gs{next(_names)}"
        p = LiveProcess("--name", name, *args)
        started.append(p)
        p.wait_ready()
        return p, name

    yield start
    for p in started:
        p.terminate()


@pytest.fixture
def harness(jack_server):
    h = JackHarness(f"hs{next(_names)}")
    yield h
    h.close()


def held_notes(n=40, spacing=601, channel=0):
    """Note-ons only (nothing releases them), spread over a little time."""
    return [(500 + k * spacing, bytes((0x90 | channel, 30 + k, 100))) for k in range(n)]


def all_notes_off(received):
    return [b for _, b in received if b[0] & 0xF0 == 0xB0 and b[1] == 123]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_while_notes_sound_ends_them_all(live, harness, signum):
    # funk-16 moves some notes early, so some note-ons are still held in the delay.
    p, name = live("-p", "funk-16")
    harness.connect(f"{name}:midi_in", f"{name}:midi_out")
    notes = held_notes(channel=9)
    harness.play([(0, bytes((START,)))] + notes, lead_sec=0.1)
    assert harness.wait_sent()
    ons_before = sum(1 for _, b in harness.received if b[0] & 0xF0 == 0x90)
    assert ons_before > 0
    p.proc.send_signal(signum)
    assert p.proc.wait(20) == 0, p.stderr()
    assert balance(harness.received) == {}
    assert all_notes_off(harness.received) == [bytes((0xB9, 123, 0))]
    assert any("stopped" in line for line in p.lines)


def test_midi_stop_ends_every_note_and_the_session_keeps_running(live, harness):
    p, name = live("-p", "swing16-62")
    harness.connect(f"{name}:midi_in", f"{name}:midi_out")
    sr = harness.sample_rate
    stop_at = 500 + 40 * 601 + 1000
    offs = [(stop_at + 5000 + k, bytes((0x80, 30 + k, 0))) for k in range(40)]
    base = harness.play([(0, bytes((START,)))] + held_notes() + [(stop_at, bytes((STOP,)))] + offs)
    assert harness.wait_sent()
    harness.wait_frames(int(0.1 * sr))
    upto_stop = [(f, b) for f, b in harness.received if f <= base + stop_at + 256]
    assert sum(1 for _, b in upto_stop if b[0] == 0x90) == 40
    assert balance(upto_stop) == {}  # the Stop ended every note
    # The player's note-offs after the Stop own no note any more: a MIDI effect passes
    # them through as they came (issue 11, item 8), once each, and nothing sounds again.
    later = [b for f, b in harness.received if f > base + stop_at + 256]
    assert sorted(later) == sorted(b for _, b in offs)
    assert not any(b[0] & 0xF0 == 0x90 and b[2] > 0 for b in later)
    assert p.proc.poll() is None


def test_lost_input_port_ends_every_note(live, harness):
    p, name = live("-p", "swing16-58", "--autostart")
    harness.connect(f"{name}:midi_in", f"{name}:midi_out")
    harness.play(held_notes(10), lead_sec=0.1)
    assert harness.wait_sent()
    harness.wait_frames(int(0.05 * harness.sample_rate))
    assert len(balance(harness.received)) == 10
    harness.src.disconnect(harness.out, f"{name}:midi_in")
    p.wait_for("port lost", 10)
    harness.wait_frames(int(0.05 * harness.sample_rate))
    assert balance(harness.received) == {}
