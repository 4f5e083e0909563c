"""Stored preambles: the `#include` block at the top of a kernel `.c` file, parsed once.

The include block is most of a kernel unit's parse (mm/memcontrol.c: about four fifths).
A developer edits a few files again and again; their include blocks rarely change.  So
the block is parsed once as a header and saved as a precompiled header (libclang's
`clang_saveTranslationUnit()` writes the same format as `clang -emit-pch`), and the
file is parsed against it with `-include-pch`, its block blanked to spaces so that every
line, column and byte offset after it stays where it was.

A preamble is keyed by the block's bytes, the flags it was built with, the directory
its quoted includes resolve from and libclang's version.  Clang validates the headers a
precompiled header was built from (size and modification time) when it is used: one
that changed makes the parse fail, and the preamble is built again.  At most `limit`
preambles are kept (least recently used first out); each is tens of MB.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

# a line of the block: blank, a comment, or an #include (nothing that defines or tests)
_LINE = re.compile(rb"[ \t]*(#[ \t]*include[ \t]*[<\"][^>\"]+[>\"][ \t]*(//.*|/\*.*\*/[ \t]*)?"
                   rb"|//.*|/\*.*\*/[ \t]*)?\r?\n")
_COMMENT_START = re.compile(rb"[ \t]*/\*")
_INCLUDE = re.compile(rb"[ \t]*#[ \t]*include")

# CXTranslationUnit flags: DetailedPreprocessingRecord, Incomplete (a header, not a whole
# unit), ForSerialization, KeepGoing
_BUILD_OPTIONS = 0x01 | 0x02 | 0x10 | 0x200


def block_length(data: bytes) -> int:
    """Bytes of the include block at the top of `data`: whole lines that are blank,
    comments or `#include`s, up to the end of the last `#include` (0: none)."""
    pos, end = 0, 0
    while pos < len(data):
        m = _LINE.match(data, pos)
        if m is not None:
            if _INCLUDE.match(data, pos):
                end = m.end()
            pos = m.end()
            continue
        if _COMMENT_START.match(data, pos):
            close = data.find(b"*/", pos)
            nl = data.find(b"\n", close) if close >= 0 else -1
            if nl < 0 or data[close + 2:nl].strip():
                break
            pos = nl + 1
            continue
        break
    return end


def blanked(data: bytes, n: int) -> bytes:
    """`data` with its first `n` bytes made spaces, newlines kept."""
    return re.sub(rb"[^\n]", b" ", data[:n]) + data[n:]


def without_includes(args: list[str]) -> list[str]:
    """The flags less their `-include FILE`s (the preamble carries what they defined)."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
        elif a in ("-include", "-include-pch"):
            skip = True
        elif not a.startswith("-include"):
            out.append(a)
    return out


@dataclass(frozen=True)
class Preamble:
    """A built preamble: the precompiled header and the headers it includes."""

    length: int
    pch: Path
    includes: tuple[str, ...]


class Preambles:
    """The directory of stored preambles, bounded and least recently used first out."""

    def __init__(self, directory: Path, limit: int = 16, version: str = "") -> None:
        self.dir = Path(directory)
        self.limit = limit
        self.version = version

    def key(self, block: bytes, args: list[str], quote_dir: str) -> str:
        h = hashlib.sha256(self.version.encode())
        for part in (block, "\0".join(args).encode(), quote_dir.encode()):
            h.update(len(part).to_bytes(8, "little"))
            h.update(part)
        return h.hexdigest()[:32]

    def find(self, cindex, index, data: bytes, args: list[str], quote_dir: str,
             build: bool) -> Preamble | None:
        """The preamble for a file's `data` parsed with `args` (the tree's own flags),
        built now if `build` and none is stored; None when the file has no include
        block or the block does not parse on its own."""
        n = block_length(data)
        if n == 0:
            return None
        key = self.key(data[:n], args, quote_dir)
        pch, meta = self.dir / f"{key}.pch", self.dir / f"{key}.json"
        if pch.is_file() and meta.is_file():
            try:
                includes = tuple(json.loads(meta.read_text())["includes"])
            except (OSError, ValueError, KeyError, TypeError):
                includes = None
            if includes is not None:
                os.utime(meta)  # recently used
                return Preamble(n, pch, includes)
        if not build:
            return None
        return self._build(cindex, index, data[:n], args, quote_dir, key, n)

    def _build(self, cindex, index, block: bytes, args: list[str], quote_dir: str,
               key: str, n: int) -> Preamble | None:
        self.dir.mkdir(parents=True, exist_ok=True)
        header = self.dir / f"{key}.h"
        header.write_bytes(block)
        try:
            tu = index.parse(str(header), args=["-x", "c-header", *args, "-iquote", quote_dir],
                             options=_BUILD_OPTIONS)
        except cindex.TranslationUnitLoadError:
            return None
        if any(d.severity >= 3 for d in tu.diagnostics):
            return None
        includes = sorted({inc.include.name for inc in tu.get_includes()})
        fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".pch.tmp")
        os.close(fd)
        try:
            tu.save(tmp)
            os.replace(tmp, self.dir / f"{key}.pch")
        except (OSError, cindex.TranslationUnitSaveError):
            Path(tmp).unlink(missing_ok=True)
            return None
        (self.dir / f"{key}.json").write_text(json.dumps({"includes": includes}))
        self._evict()
        return Preamble(n, self.dir / f"{key}.pch", tuple(includes))

    def drop(self, pre: Preamble) -> None:
        """Forget a preamble clang refused (a header changed since it was built)."""
        for suffix in (".pch", ".json", ".h"):
            pre.pch.with_suffix(suffix).unlink(missing_ok=True)

    def _evict(self) -> None:
        metas = sorted(self.dir.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for meta in metas[self.limit:]:
            for suffix in (".pch", ".json", ".h"):
                meta.with_suffix(suffix).unlink(missing_ok=True)
