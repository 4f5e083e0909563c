"""Plain data in, plain data out: the IR, summaries and findings as JSON.

What the store keeps must not be able to run code when it is read back, as a
pickle can: a cache directory shared between users would be a code-execution
hole.  A `Codec` turns a tree of registered dataclasses, tuples, sets and dicts
into JSON values and back; anything else (a class not registered, a function)
is refused on the way in and on the way out.

Encoding: lists and scalars are themselves; a dataclass is `{"D": [name, field…]}`
(fields in declaration order), a tuple `{"T": […]}`, a set `{"S": […]}`, a
frozenset `{"F": […]}`, a dict `{"M": [[key, value]…]}` (keys may be tuples).
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Iterable


class CodecError(ValueError):
    """The data is not what this codec wrote."""


class Codec:
    def __init__(self, classes: Iterable[type]) -> None:
        self.by_name: dict[str, tuple[type, tuple[str, ...]]] = {}
        self.by_type: dict[type, tuple[str, tuple[str, ...]]] = {}
        for cls in classes:
            names = tuple(f.name for f in dataclasses.fields(cls))
            self.by_name[cls.__name__] = (cls, names)
            self.by_type[cls] = (cls.__name__, names)

    # --- out --------------------------------------------------------------------------
    def encode(self, obj):
        t = type(obj)
        if t in (str, int, float, bool) or obj is None:
            return obj
        if t is list:
            return [self.encode(x) for x in obj]
        if t is tuple:
            return {"T": [self.encode(x) for x in obj]}
        spec = self.by_type.get(t)
        if spec is not None:
            name, names = spec
            return {"D": [name, *(self.encode(getattr(obj, n)) for n in names)]}
        if t is dict:
            return {"M": [[self.encode(k), self.encode(v)] for k, v in obj.items()]}
        if t is set:
            return {"S": sorted((self.encode(x) for x in obj), key=_order)}
        if t is frozenset:
            return {"F": sorted((self.encode(x) for x in obj), key=_order)}
        raise CodecError(f"cannot store a {t.__name__}")

    # --- in ---------------------------------------------------------------------------
    def decode(self, data):
        t = type(data)
        if t is list:
            return [self.decode(x) for x in data]
        if t is not dict:
            return data
        if len(data) != 1:
            raise CodecError("not an encoded value")
        (tag, body), = data.items()
        if type(body) is not list:
            raise CodecError("not an encoded value")
        if tag == "D":
            spec = self.by_name.get(body[0]) if body and type(body[0]) is str else None
            if spec is None:
                raise CodecError(f"unknown record {body[:1]}")
            cls, names = spec
            if len(body) != len(names) + 1:
                raise CodecError(f"{body[0]}: {len(body) - 1} fields, not {len(names)}")
            return cls(*(self.decode(x) for x in body[1:]))
        if tag == "T":
            return tuple(self.decode(x) for x in body)
        if tag == "M":
            return {self.decode(k): self.decode(v) for k, v in body}
        if tag == "S":
            return {self.decode(x) for x in body}
        if tag == "F":
            return frozenset(self.decode(x) for x in body)
        raise CodecError(f"unknown tag {tag!r}")

    # --- bytes ------------------------------------------------------------------------
    def dumps(self, obj) -> bytes:
        """Compressed JSON: what the store writes."""
        text = json.dumps(self.encode(obj), separators=(",", ":"), sort_keys=False)
        return zlib.compress(text.encode(), 1)

    def loads(self, blob: bytes):
        try:
            data = json.loads(zlib.decompress(blob))
        except (zlib.error, ValueError, UnicodeDecodeError) as exc:
            raise CodecError(f"unreadable entry: {exc}") from None
        try:
            return self.decode(data)
        except (TypeError, ValueError, IndexError, AttributeError) as exc:
            raise CodecError(f"malformed entry: {exc}") from None


def _order(x) -> str:
    """A total order over encoded values, so that sets encode the same every time."""
    return json.dumps(x, sort_keys=True)
