"""Where the tree defines each global function: the index that lets a run follow a call
into another file.

A file analysed alone sees its callees in other files only as names.  Whether
`ip6_route_output_flags()` returns a counted dst or `page_offline_begin()` sleeps is
in route.c and mm/util.c; the run can parse just those definitions (`follow`) once it
knows where they are.  Universal Ctags reads the whole tree in well under a minute
without preprocessing it, which is all a name-to-file map needs; the map is kept in
the cache directory and made again when the tree's configuration or top Makefile
changes.  A definition that has moved since is simply not found where the index says,
and the call stays unknown, as it was without the index.  Beside it, the index keeps
the flags kbuild gave for the files followed (asking costs a `make` run).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from analyzer.errors import InputError

CTAGS = "ctags"
# directories with no code the configured kernel runs (other architectures are left to
# `exclude_arches`)
_SKIP = ("Documentation", "tools", "samples", "scripts", "usr", "LICENSES", ".git")


FORMAT = "2"  # of the index file: a new one is made when it changes
KEEP = 4      # indexes kept (trees, configurations)


def _fingerprint(root: Path) -> str:
    """The tree and its configuration, as the index was made for them."""
    parts = [FORMAT, str(root.resolve())]
    for name in ("Makefile", ".config"):
        try:
            st = (root / name).stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}:-")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:24]


def _arch(root: Path) -> str:
    """The architecture the tree is configured for (its .config), x86 when unsaid."""
    try:
        for line in (root / ".config").read_text(errors="replace").splitlines()[:8]:
            if "Linux/" in line:
                arch = line.split("Linux/", 1)[1].split()[0]
                return {"x86_64": "x86", "i386": "x86", "arm64": "arm64"}.get(arch, arch)
    except OSError:
        pass
    return "x86"


class DefinitionIndex:
    """Global (non-static) function definitions of a tree's .c files, by name."""

    def __init__(self, db: sqlite3.Connection, root: Path) -> None:
        self.db = db
        self.root = root

    @classmethod
    def open(cls, root: Path, cache_dir: Path) -> DefinitionIndex:
        """The tree's index, made now if there is none for this tree and configuration.
        InputError (one sentence) when ctags is missing or fails."""
        path = Path(cache_dir) / "symbols" / f"{_fingerprint(root)}.sqlite"
        if not path.is_file():
            build(root, path)
        else:
            with contextlib.suppress(OSError):
                os.utime(path)  # used last: kept longest
        db = sqlite3.connect(path, timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS flags (file TEXT PRIMARY KEY, args TEXT)")
        return cls(db, root)

    def files(self, name: str) -> list[str]:
        """Tree-relative .c files that define `name` globally."""
        rows = self.db.execute("SELECT file FROM defs WHERE name=? ORDER BY file", (name,))
        return [r[0] for r in rows]

    def returns_pointer(self, name: str) -> bool:
        """Does some definition of `name` return a pointer (a lookup's object, perhaps
        with a reference or valid only under RCU)?"""
        row = self.db.execute("SELECT max(ptr) FROM defs WHERE name=?", (name,)).fetchone()
        return bool(row and row[0])

    def flags(self, rel: str) -> tuple[str, ...] | None:
        """The compiler arguments kbuild gave for `rel` when it was asked before."""
        row = self.db.execute("SELECT args FROM flags WHERE file=?", (rel,)).fetchone()
        return tuple(json.loads(row[0])) if row else None

    def remember_flags(self, rel: str, args: tuple[str, ...]) -> None:
        """Keep kbuild's answer for `rel` (`make -n` costs a second per directory)."""
        try:
            with self.db:
                self.db.execute("INSERT OR REPLACE INTO flags VALUES (?, ?)",
                                (rel, json.dumps(list(args))))
        except sqlite3.Error:
            pass  # (a read-only cache: asked again next time)

    def close(self) -> None:
        self.db.close()


def build(root: Path, path: Path) -> None:
    """Run ctags over the tree and keep the global definitions of .c files."""
    exe = shutil.which(CTAGS)
    if exe is None:
        raise InputError("ctags is not installed (apt-get install universal-ctags), so "
                         "callees in other files cannot be followed; pass --follow 0")
    arch = _arch(root)
    excludes = [f"--exclude={d}" for d in _SKIP]
    excludes += [f"--exclude=arch/{a.name}" for a in (root / "arch").iterdir()
                 if a.is_dir() and a.name != arch] if (root / "arch").is_dir() else []
    cmd = [exe, "-R", "--languages=C", "--kinds-C=f", "--fields=ft", "--excmd=number",
           "-f", "-", *excludes, "."]
    try:
        out = subprocess.run(cmd, cwd=root, capture_output=True, text=True,
                             errors="replace", timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise InputError(f"ctags could not index {root}: {exc}") from None
    if out.returncode != 0:
        first = (out.stderr.strip().splitlines() or ["no message"])[0]
        raise InputError(f"ctags could not index {root}: {first}")
    rows = set()
    for line in out.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[1].endswith(".c") or "file:" in parts[3:]:
            continue
        ret = next((p for p in parts[3:] if p.startswith("typeref:")), "")
        rows.add((parts[0], parts[1].removeprefix("./"), int("*" in ret)))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        db = sqlite3.connect(tmp)
        db.execute("CREATE TABLE defs (name TEXT, file TEXT, ptr INTEGER)")
        db.executemany("INSERT INTO defs VALUES (?, ?, ?)", sorted(rows))
        db.execute("CREATE INDEX by_name ON defs (name)")
        db.commit()
        db.close()
        os.chmod(tmp, 0o644)  # (a cache directory a team shares)
        os.replace(tmp, path)  # concurrent runs: the last one wins, whole
    finally:
        Path(tmp).unlink(missing_ok=True)
    # the indexes of the trees used last are kept, the others go
    for old in sorted(path.parent.glob("*.sqlite"), key=lambda p: p.stat().st_mtime,
                      reverse=True)[KEEP:]:
        old.unlink(missing_ok=True)
