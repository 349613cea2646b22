"""Racks from YAML files and third-party processors from entry points.

A rack file is a list of processors, each a mapping with ``processor`` (a
registry name) and its parameters, plus optional ``bypass``::

    # rack.yaml
    - processor: quantize
      grid: 1/16
      amount: 0.5
    - processor: groove
      preset: swing16-58
      timing: 0.8
    - processor: velocity
      curve: 0.8

Third-party packages add processors through the ``groove.processors``
entry-point group: ``name = "package.module:ProcessorClass"`` in their
pyproject.toml; the class subclasses ``engine.host.processor.Processor`` and takes
its parameters as keyword arguments.
"""

from __future__ import annotations

import difflib
import inspect
from importlib.metadata import entry_points
from pathlib import Path

from .processor import Processor, Rack
from .processors import BUILTIN

ENTRY_POINT_GROUP = "groove.processors"
MAX_RACK_BYTES = 256 * 1024


class RackError(ValueError):
    """A rack file that cannot be used; ``str()`` is ``FILE:LINE:COL: message``."""


def registry() -> dict:
    """Processor classes by name: built-ins, then installed plugins."""
    found = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in found:
            found[ep.name] = ep
    return found


def _resolve(name, where):
    reg = registry()
    if name not in reg:
        close = difflib.get_close_matches(str(name), list(reg), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise RackError(
            f"{where}: unknown processor {name!r}{hint} (known: {', '.join(sorted(reg))})"
        )
    cls = reg[name]
    if not isinstance(cls, type):
        try:
            cls = cls.load()
        except Exception as exc:  # a broken plugin must not take the host down
            raise RackError(f"{where}: the plugin {name!r} failed to load: {exc}") from None
    if not (isinstance(cls, type) and issubclass(cls, Processor)):
        raise RackError(f"{where}: {name!r} is not an engine.host.processor.Processor subclass")
    return cls


def build_processor(spec: dict, where: str = "<rack>") -> Processor:
    """One processor from a mapping ``{processor: NAME, bypass: bool, **params}``."""
    if not isinstance(spec, dict) or "processor" not in spec:
        raise RackError(f"{where}: expected a mapping with a 'processor' key, got {spec!r}")
    params = {k: v for k, v in spec.items() if k not in ("processor", "bypass")}
    cls = _resolve(spec["processor"], where)
    if cls.__name__ == "GrooveProcessor":
        params = _groove_params(params, where)
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    for key in params:
        if key not in allowed:
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise RackError(
                f"{where}: {spec['processor']} has no parameter {key!r}{hint} "
                f"(allowed: {', '.join(allowed)})"
            )
    try:
        proc = cls(**params)
    except (TypeError, ValueError) as exc:
        raise RackError(f"{where}: {spec['processor']}: {exc}") from None
    proc.bypass = bool(spec.get("bypass", False))
    return proc


def _groove_params(params, where):
    from engine.presets import load
    from engine.presets.model import Amounts

    params = dict(params)
    name = params.pop("preset", None)
    if name is None:
        raise RackError(f"{where}: groove needs 'preset: NAME'")
    try:
        preset = load(name)
        changes = {
            k: params.pop(k)
            for k in ("timing", "quantize", "velocity", "random_ms", "random_velocity", "seed")
            if k in params
        }
        amounts = preset.amounts.override(**changes) if changes else None
        if amounts is not None:
            Amounts(**amounts.__dict__)
    except ValueError as exc:
        raise RackError(f"{where}: {exc}") from None
    return dict(preset=preset, amounts=amounts, **params)


def load_rack(path) -> Rack:
    """Read a rack file; every problem is a RackError naming file, line and column."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RackError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if len(data) > MAX_RACK_BYTES:
        raise RackError(f"{path}: {len(data)} bytes is over the {MAX_RACK_BYTES} a rack may have")
    try:
        text = data.decode("utf-8")
        doc = YAML(typ="rt", pure=True).load(text)
    except UnicodeDecodeError as exc:
        raise RackError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        pos = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        raise RackError(f"{path}:{pos}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, list) or not doc:
        raise RackError(
            f"{path}:1:1: a rack is a non-empty list of processors (- processor: NAME ...)"
        )
    procs = []
    for i, item in enumerate(doc):
        line = doc.lc.item(i)[0] + 1 if hasattr(doc, "lc") else 1
        col = doc.lc.item(i)[1] + 1 if hasattr(doc, "lc") else 1
        spec = dict(item) if isinstance(item, dict) else item
        procs.append(build_processor(spec, f"{path}:{line}:{col}"))
    return Rack(procs)
