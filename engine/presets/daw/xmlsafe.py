"""Untrusted XML, parsed safely: no DTD, no entities, no external references.

Groove files come from the internet; a document type declaration can make
a small file expand to gigabytes (the "billion laughs") or read local files.
defusedxml refuses all of that; its refusals and the parser's own errors
become one-line DawErrors naming the file.
"""

from __future__ import annotations

import defusedxml
import defusedxml.ElementTree as SafeET

from .common import fail


def parse_xml(data: bytes, path, what: str):
    """The root element of ``data``; DawError for unsafe or malformed XML."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise fail(
            path, f"the XML has a document type declaration (DTD); {what} never has one"
        ) from None
    except defusedxml.EntitiesForbidden:
        raise fail(path, f"the XML declares entities; {what} never does") from None
    except defusedxml.ExternalReferenceForbidden:
        raise fail(path, "the XML refers to external files; refused") from None
    except SafeET.ParseError as exc:
        line = getattr(exc, "position", (None, None))[0]
        raise fail(path, f"not well-formed XML ({exc}); is the file truncated?", line) from None


def child(node, tag: str):
    """The first child element named ``tag``, or None."""
    return node.find(tag) if node is not None else None


def value_of(node, path_tags: str):
    """The ``Value`` attribute of the element at ``path_tags`` below ``node``, or None."""
    found = node.find(path_tags) if node is not None else None
    return None if found is None else found.get("Value")
