"""What a live session's groove comes from, and what changes it while it plays.

* :class:`GrooveSource` loads the groove (a preset by name or file, or a rack
  file) and validates it; every error is one line with file:line.
* :class:`FileWatcher` polls the source file's modification time and size in a
  background thread and loads a changed file there (never on the audio
  thread); the session swaps the result in at a block boundary.
* :class:`CCMap` turns ``--cc timing=1`` style mappings and incoming CC values
  into new amounts or blend weights.
"""

from __future__ import annotations

import collections
import threading
import time
from pathlib import Path

import groove
from engine.presets.model import Amounts, Preset
from groove import GrooveError

#: Parameters a CC can drive, besides ``weightN`` (blend part N, from 1).
CC_PARAMS = ("timing", "quantize", "velocity")


def parse_cc(specs) -> dict:
    """``["timing=1", "weight2=22"]`` (or comma-separated) -> {cc number: param}."""
    mapping = {}
    for spec in specs or ():
        for item in str(spec).split(","):
            name, sep, number = item.strip().partition("=")
            name = name.strip()
            if not sep or not number.strip().isdigit():
                raise ValueError(f"--cc: {item!r} is not PARAM=CC (e.g. timing=1)")
            cc = int(number)
            if not 0 <= cc <= 127:
                raise ValueError(f"--cc {name}: CC {cc} is outside 0 .. 127")
            if name not in CC_PARAMS and not (
                name.startswith("weight") and name[6:].isdigit() and int(name[6:]) >= 1
            ):
                raise ValueError(
                    f"--cc: {name!r} is not one of {', '.join(CC_PARAMS)}, weight1, weight2, ..."
                )
            if cc in mapping:
                raise ValueError(f"--cc: CC {cc} is mapped twice ({mapping[cc]}, {name})")
            mapping[cc] = name
    return mapping


def groove_from_params(params: dict):
    """Rebuild a groove from its ``params`` (to change one blend weight)."""
    timing = params.get("timing", 1.0)
    if "parts" in params:
        g = groove.blend([(groove_from_params(p), w) for p, w in params["parts"]])
    elif "offsets" in params:
        kw = {k: params[k] for k in ("grid", "period", "interp", "velocity") if k in params}
        g = groove.template(params["offsets"], **kw)
    elif "amount" in params:
        g = groove.swing(params["amount"], grid=params.get("grid", "1/16"))
    else:
        g = groove.straight(params.get("grid", "1/16"))
    return g if timing == 1.0 else g.scaled(timing)


class CCMap:
    """Current CC-driven values, applied on top of a base preset.

    Parameters
    ----------
    mapping : dict
        CC number -> parameter name (see :func:`parse_cc`).
    """

    def __init__(self, mapping: dict):
        self.mapping = dict(mapping)
        self.values = {}  # param -> the latest CC value 0..127

    def check(self, preset: Preset) -> None:
        """Raise ValueError when a mapped weight has no blend part to drive."""
        for name in self.mapping.values():
            if name.startswith("weight"):
                parts = preset.groove.params.get("parts") if preset.groove.kind == "blend" else None
                n = int(name[6:])
                if parts is None or n > len(parts):
                    have = (
                        f"a blend of {len(parts)} parts"
                        if parts
                        else f"a {preset.groove.kind}, not a blend"
                    )
                    raise ValueError(f"--cc {name}: the groove of {preset.name!r} is {have}")

    def apply(self, preset: Preset, amounts: Amounts) -> tuple:
        """(preset, amounts) with the current CC values applied."""
        changes = {}
        v = self.values
        if "timing" in v:
            limit = min(g.max_timing for g in preset.grooves())
            changes["timing"] = min(v["timing"] / 100.0, groove.MAX_TIMING, limit)
        if "quantize" in v:
            changes["quantize"] = v["quantize"] / 127.0
        if "velocity" in v:
            changes["velocity"] = max(-1.0, min(1.0, (v["velocity"] - 64) / 63.0))
        weights = {int(k[6:]) - 1: val / 127.0 for k, val in v.items() if k.startswith("weight")}
        if weights and preset.groove.kind == "blend":
            parts = [
                (groove_from_params(p), weights.get(i, w))
                for i, (p, w) in enumerate(preset.groove.params["parts"])
            ]
            if sum(w for _, w in parts) > 0:
                preset = Preset(
                    preset.name,
                    groove.blend(parts),
                    preset.lanes,
                    preset.amounts,
                    preset.description,
                    preset.kind,
                    preset.path,
                )
        return preset, amounts.override(**changes)


class GrooveSource:
    """A preset (``-p NAME|FILE``) or a rack file (``--rack FILE``).

    ``load()`` returns ``(rack or None, preset)``: for a preset, the rack is
    None (the session builds one, or changes the running one's groove).
    """

    def __init__(self, preset: str | None = None, rack: str | None = None):
        if (preset is None) == (rack is None):
            raise ValueError("give a preset (-p NAME) or a rack (--rack FILE), not both or neither")
        self.preset_arg, self.rack_arg = preset, rack
        self.path = Path(rack) if rack else None

    def load(self):
        if self.rack_arg is not None:
            from engine.host.processors import GrooveProcessor
            from engine.host.rack_file import load_rack

            rack = load_rack(self.rack_arg)
            gp = rack.find(GrooveProcessor)
            return rack, (gp.current.preset if gp is not None else None)
        from engine.presets import load as load_preset

        preset = load_preset(self.preset_arg)
        if preset.path:
            self.path = Path(preset.path)
        elif Path(self.preset_arg).is_file():
            self.path = Path(self.preset_arg)
        return None, preset

    def label(self) -> str:
        return str(self.path or self.preset_arg)


class FileWatcher:
    """Poll a file; load it in this thread when it changes; hand results over.

    ``results`` receives ``("ok", (rack, preset))`` or ``("error", message)``.
    """

    def __init__(self, source: GrooveSource, interval_sec: float = 0.25):
        self.source = source
        self.interval_sec = interval_sec
        self.results = collections.deque()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="groove-watch", daemon=True)
        self._stamp = self._stat()

    def _stat(self):
        path = self.source.path
        try:
            st = path.stat() if path else None
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size) if st else None

    def start(self):
        if self.source.path is not None:
            self._thread.start()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(2.0)

    def _loop(self):
        while not self._stop.wait(self.interval_sec):
            stamp = self._stat()
            if stamp is None or stamp == self._stamp:
                continue
            # Let an editor finish writing: the stamp must hold still for a moment.
            time.sleep(0.05)
            if self._stat() != stamp:
                continue
            self._stamp = stamp
            try:
                self.results.append(("ok", self.source.load()))
            except (GrooveError, ValueError, OSError, TypeError) as exc:
                msg = str(exc)
                label = self.source.label()
                if label not in msg:
                    msg = f"{label}: {msg}"
                self.results.append(("error", msg))
