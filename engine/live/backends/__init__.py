"""Live backends: where the audio clock and the MIDI ports come from.

Both backends drive the same :class:`~engine.live.backends.core.BlockCore` (and
so the same engine and rack) from their audio callback, and share this
interface:

``Backend(options)``            main thread; nothing opened yet
``open()``                      main thread: opens the client/stream and the
                                MIDI ports; afterwards ``sample_rate`` and
                                ``block_frames`` are known
``start(core)``                 main thread: the callback starts calling
                                ``core.run_block``; ports get connected
``poll()``                      main thread, a few times a second: returns
                                a list of short notices (port lost, server
                                gone) and asks the core to panic when needed
``close(timeout_sec)``          main thread: asks the core for a final panic,
                                waits until it went out, closes everything
``xruns``, ``dropped``, ``alive``, ``describe()``   for the status line

``--backend jack`` is the native backend (``jack_native``: a C process
callback over the compiled live kernel, no Python on JACK's real-time
thread) when the rack compiles, else JACK-Client with a Python callback
(``jack_backend``, not real-time safe: it waits for the GIL); both put MIDI
at exact frame offsets.  ``--backend portaudio`` is a sounddevice stream as
the clock with python-rtmidi ports (see each module).
"""

from __future__ import annotations

from .base import BackendError, BackendOptions, callback_report, match_port

BACKENDS = ("jack", "portaudio")

__all__ = [
    "BACKENDS",
    "BackendError",
    "BackendOptions",
    "get_backend",
    "list_ports",
    "match_port",
    "callback_report",
]


def get_backend(name: str, options: BackendOptions, native: bool = False):
    """The backend called ``name``, constructed (not opened).

    ``native`` (jack only): the C callback over the live kernel, whose
    ``start`` takes a LiveKernel instead of a BlockCore.
    """
    if name == "jack" and native:
        from .jack_native import NativeJackBackend

        return NativeJackBackend(options)
    if name == "jack":
        from .jack_backend import JackBackend

        return JackBackend(options)
    if name == "portaudio":
        from .portaudio_backend import PortAudioBackend

        return PortAudioBackend(options)
    raise BackendError(f"backend: {name!r} is not one of {', '.join(BACKENDS)}")


def list_ports(name: str) -> list:
    """Lines describing the audio devices and MIDI ports a backend can use."""
    if name == "jack":
        from .jack_backend import list_ports as jack_ports

        return jack_ports()
    if name == "portaudio":
        from .portaudio_backend import list_ports as pa_ports

        return pa_ports()
    raise BackendError(f"backend: {name!r} is not one of {', '.join(BACKENDS)}")
