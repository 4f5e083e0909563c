"""The persistent store: what phase 1, the summaries and the checks made, kept as data.

One SQLite file (WAL, so concurrent runs and `make -j` share it), holding:

- `unit`: a translation unit's skeleton (its nodes, problems, costs) and the
  fingerprints of its inputs — the main file's and every header's size, mtime and
  content digest.  The key covers everything else that changes a lowering:
  rcucheck's code, libclang's version, the model, the file's name and flags.
- `body`: each function's lowered IR, one row per function, so that the reduce
  and the checks fetch only the bodies they run.
- `summary`: per function, its summary for one digest of its inputs (the
  summaries its calls reach): reused whenever those inputs come round again.
- `checked`: per unit, its findings and facts for one digest of everything the
  checks consumed.
- `latest`: per tree, the unit each file's latest analysis made, so that a run
  over a few files sees the rest of the tree's summaries (`--summaries`).

Every value is compressed JSON written by `analyzer.ir.codec`: reading an entry
cannot run code, whoever wrote the file.  An entry that does not decode is
dropped and rebuilt with one line of notice; a file that is not a store of this
version is set aside and a new one started.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analyzer import __version__
from analyzer.errors import InputError
from analyzer.interproc.observer import CallSite
from analyzer.interproc.program import Checked, Node, UnitInfo, UnitResult
from analyzer.interproc.summaries import Summary
from analyzer.ir import Finding, Function, codec, events
from analyzer.lower.tu import LoweredTU
from analyzer.model import ApiModel

SCHEMA = 1
FILE_NAME = "rcucheck.sqlite"

_IR = [events.Loc, events.Val, events.Call, events.Assign, events.Deref, events.RcuAccess,
       events.Walk, events.Return, events.PlainAccess, events.Dead, events.Cond, events.Block,
       events.Function]


@dataclass
class UnitMeta:
    """What the report says of one unit's phase 1."""

    path: str
    parse_seconds: float = 0.0
    lower_seconds: float = 0.0
    includes: list[str] = field(default_factory=list)
    parse_errors: int = 0
    cached: bool = False
    # the map task's summaries and checks of the unit on its own
    analysis_seconds: float = 0.0


@dataclass
class StoredUnit:
    """A unit as the store gives it back: no bodies until asked for."""

    key: str
    meta: UnitMeta
    info: UnitInfo
    nodes: list[Node]
    owned: list[str]  # header inline nodes whose bodies this unit carries
    version: str = ""  # the digest of its inputs' contents


CODEC = codec.Codec([*_IR, LoweredTU, Node, UnitInfo, UnitMeta, UnitResult, Checked, Finding,
                     Summary, CallSite])

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS unit (key TEXT PRIMARY KEY, file TEXT, deps BLOB, data BLOB,
                                 written REAL);
CREATE TABLE IF NOT EXISTS body (unit TEXT, nid TEXT, data BLOB, PRIMARY KEY (unit, nid));
CREATE TABLE IF NOT EXISTS summary (unit TEXT, nid TEXT, inputs TEXT, data BLOB,
                                    PRIMARY KEY (unit, nid, inputs));
CREATE TABLE IF NOT EXISTS checked (unit TEXT, inputs TEXT, data BLOB,
                                    PRIMARY KEY (unit, inputs));
CREATE TABLE IF NOT EXISTS run (digest TEXT PRIMARY KEY, data BLOB, written REAL);
CREATE TABLE IF NOT EXISTS latest (tree TEXT, name TEXT, unit TEXT, PRIMARY KEY (tree, name));
"""


def default_dir() -> Path:
    base = os.environ.get("RCUCHECK_CACHE") or \
        str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rcucheck")
    return Path(base)


def _notice(text: str) -> None:
    print(f"rcucheck: {text}", file=sys.stderr)


class Store:
    """One store file; every method is safe to call from one process at a time, and
    many processes may share the file."""

    def __init__(self, path: Path, model: ApiModel, libclang_version: str = "",
                 notice: Callable[[str], None] = _notice) -> None:
        self.path = Path(path)
        self.notice = notice
        self.prefix = "\0".join([__version__, code_fingerprint(), model.fingerprint(),
                                 libclang_version])
        self.db = self._open()

    # --- the file ---------------------------------------------------------------------
    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            try:
                db = sqlite3.connect(self.path, timeout=60, isolation_level=None,
                                     check_same_thread=False)
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(_TABLES)
                row = db.execute("SELECT v FROM meta WHERE k='schema'").fetchone()
                if row is None:
                    db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA),))
                elif row[0] != str(SCHEMA):
                    raise sqlite3.DatabaseError(f"schema {row[0]}, not {SCHEMA}")
                return db
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(UnboundLocalError, sqlite3.Error):
                    db.close()
                if attempt:
                    raise
                self.notice(f"the cache {self.path} is not a store of this rcucheck ({exc}): "
                            "starting a new one")
                self._remove()
        raise AssertionError("unreachable")

    def _remove(self) -> None:
        remove(self.path)

    def close(self) -> None:
        self.db.close()

    @contextlib.contextmanager
    def writing(self):
        """One write transaction; a store that cannot be written is only slower."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            self.notice(f"the cache {self.path} cannot be written ({exc})")
            yield None
            return
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def _load(self, blob: bytes, what: str, drop: str, args: tuple):
        """Decode one entry; one that does not decode is dropped, with a notice."""
        try:
            return CODEC.loads(blob)
        except codec.CodecError as exc:
            self.notice(f"cache entry for {what} unreadable ({exc}): rebuilt")
            with self.writing() as db:
                if db is not None:
                    db.execute(drop, args)
            return None

    # --- units ------------------------------------------------------------------------
    def key(self, job) -> str:
        data = "\0".join([self.prefix, job.file, job.name, *job.args,
                          *(("focus", *job.focus) if job.focus else ())])
        return hashlib.sha256(data.encode()).hexdigest()[:32]

    def unit(self, job) -> StoredUnit | None:
        """The stored unit of `job`, if the file and every header are as they were."""
        key = self.key(job)
        row = self.db.execute("SELECT deps, data FROM unit WHERE key=?", (key,)).fetchone()
        if row is None:
            return None
        entry = self._load(row[1], job.name, "DELETE FROM unit WHERE key=?", (key,))
        deps = self._load(row[0], job.name, "DELETE FROM unit WHERE key=?", (key,))
        if entry is None or deps is None or not unchanged(deps):
            return None
        meta, info, nodes, owned = entry
        meta.cached = True
        return StoredUnit(key, meta, info, nodes, owned, version(deps))

    def put_unit(self, key: str, file: str, deps: list, meta: UnitMeta, info: UnitInfo,
                 nodes: list[Node], owned: list[str], bodies: dict[str, bytes]) -> None:
        with self.writing() as db:
            if db is None:
                return
            for table in ("body", "summary", "checked"):
                db.execute(f"DELETE FROM {table} WHERE unit=?", (key,))
            db.execute("INSERT OR REPLACE INTO unit VALUES (?, ?, ?, ?, ?)",
                       (key, file, CODEC.dumps(deps), CODEC.dumps([meta, info, nodes, owned]),
                        time.time()))
            db.executemany("INSERT OR REPLACE INTO body VALUES (?, ?, ?)",
                           [(key, nid, blob) for nid, blob in bodies.items()])

    def forget(self, keys: list[str]) -> None:
        if not keys:
            return
        with self.writing() as db:
            if db is not None:
                for table, col in (("unit", "key"), ("body", "unit"), ("summary", "unit"),
                                   ("checked", "unit")):
                    db.executemany(f"DELETE FROM {table} WHERE {col}=?", [(k,) for k in keys])

    def body(self, node: Node) -> Function:
        row = self.db.execute("SELECT data FROM body WHERE unit=? AND nid=?",
                              (node.tu, node.nid)).fetchone()
        fn = self._load(row[0], node.nid, "DELETE FROM unit WHERE key=?", (node.tu,)) \
            if row else None
        if not isinstance(fn, Function):
            raise KeyError(node.nid)
        return fn

    def bodies(self, unit: str, nids: list[str]) -> dict[str, bytes]:
        """Bodies as stored, for a task that decodes them where it runs."""
        want = set(nids)
        rows = self.db.execute("SELECT nid, data FROM body WHERE unit=?", (unit,)).fetchall()
        return {nid: data for nid, data in rows if nid in want}

    # --- summaries and checks ---------------------------------------------------------
    def summary(self, node: Node, inputs: str) -> tuple[Summary, list[CallSite]] | None:
        row = self.db.execute("SELECT data FROM summary WHERE unit=? AND nid=? AND inputs=?",
                              (node.tu, node.nid, inputs)).fetchone()
        if row is None:
            return None
        got = self._load(row[0], node.nid, "DELETE FROM summary WHERE unit=? AND nid=?",
                         (node.tu, node.nid))
        return (got[0], got[1]) if got else None

    def put_summaries(self, made: list[tuple[Node, str, Summary, list[CallSite]]]) -> None:
        if not made:
            return
        with self.writing() as db:
            if db is not None:
                db.executemany("INSERT OR REPLACE INTO summary VALUES (?, ?, ?, ?)",
                               [(n.tu, n.nid, inputs, CODEC.dumps([s, sites]))
                                for n, inputs, s, sites in made if n.tu])

    def checked(self, unit: str, inputs: str) -> Checked | None:
        row = self.db.execute("SELECT data FROM checked WHERE unit=? AND inputs=?",
                              (unit, inputs)).fetchone()
        if row is None:
            return None
        got = self._load(row[0], unit, "DELETE FROM checked WHERE unit=?", (unit,))
        return got if isinstance(got, Checked) else None

    def checked_before(self, unit: str) -> bool:
        return self.db.execute("SELECT 1 FROM checked WHERE unit=?", (unit,)).fetchone() \
            is not None

    def put_checked(self, unit: str, inputs: str, checked_blob: bytes) -> None:
        with self.writing() as db:
            if db is not None:
                db.execute("DELETE FROM checked WHERE unit=?", (unit,))
                db.execute("INSERT INTO checked VALUES (?, ?, ?)", (unit, inputs, checked_blob))

    # --- whole runs ---------------------------------------------------------------------
    def run(self, digest: str) -> list[UnitResult] | None:
        row = self.db.execute("SELECT data FROM run WHERE digest=?", (digest,)).fetchone()
        if row is None:
            return None
        got = self._load(row[0], "a run", "DELETE FROM run WHERE digest=?", (digest,))
        return got if isinstance(got, list) else None

    def put_run(self, digest: str, results: list[UnitResult]) -> None:
        with self.writing() as db:
            if db is not None:
                db.execute("INSERT OR REPLACE INTO run VALUES (?, ?, ?)",
                           (digest, CODEC.dumps(results), time.time()))
                # the latest runs only: older ones are rarely asked for again
                db.execute("DELETE FROM run WHERE digest NOT IN (SELECT digest FROM run "
                           "ORDER BY written DESC LIMIT 256)")

    # --- the tree's latest analysis ---------------------------------------------------
    def set_latest(self, tree: str, units: list[tuple[str, str]]) -> None:
        with self.writing() as db:
            if db is not None:
                db.executemany("INSERT OR REPLACE INTO latest VALUES (?, ?, ?)",
                               [(tree, name, key) for name, key in units])

    def analysed_before(self, tree: str, name: str) -> bool:
        """Did an earlier run of this tree analyse the file `name`?"""
        return self.db.execute("SELECT 1 FROM latest WHERE tree=? AND name=?",
                               (tree, name)).fetchone() is not None

    def latest(self, tree: str, skip: set[str]) -> list[StoredUnit]:
        """Every unit of the tree's latest analysis still valid, but those named in `skip`
        (the files a run analyses itself)."""
        out = []
        rows = self.db.execute(
            "SELECT latest.name, unit.key, unit.deps, unit.data FROM latest JOIN unit "
            "ON unit.key = latest.unit WHERE latest.tree=?", (tree,)).fetchall()
        for name, key, deps_blob, data in rows:
            if name in skip:
                continue
            deps = self._load(deps_blob, name, "DELETE FROM unit WHERE key=?", (key,))
            entry = self._load(data, name, "DELETE FROM unit WHERE key=?", (key,))
            if deps is None or entry is None or not unchanged(deps, headers=False):
                continue
            meta, info, nodes, owned = entry
            out.append(StoredUnit(key, meta, info, nodes, owned, version(deps)))
        return out


def inspect(path: Path) -> dict[str, int]:
    """What a store file holds, without changing it; one sentence if it is not a store."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("unit", "body", "summary", "checked", "run", "latest")}
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise InputError(f"{path} is not an rcucheck store ({exc})") from None


def remove(path: Path) -> bool:
    removed = False
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
            removed = True
    return removed


def fingerprints(main: str, includes: list[str]) -> list | None:
    """(path, size, mtime, digest) of the main file and every header, or None if one is
    gone."""
    out = []
    for path in [main, *includes]:
        try:
            st = os.stat(path)
            digest = _digest(path)
        except OSError:
            return None
        out.append([path, st.st_size, st.st_mtime_ns, digest])
    return out


def unchanged(deps: list, headers: bool = True) -> bool:
    """Every input as it was: same size and mtime, or else the same content."""
    for i, (path, size, mtime, digest) in enumerate(deps):
        if i and not headers:
            break
        try:
            st = os.stat(path)
        except OSError:
            return False
        if st.st_size == size and st.st_mtime_ns == mtime:
            continue
        try:
            if st.st_size != size or _digest(path) != digest:
                return False
        except OSError:
            return False
    return bool(deps)


def version(deps: list) -> str:
    """The digest of a unit's inputs' contents, as its fingerprints record them."""
    return hashlib.sha256("\n".join(str(d[3]) for d in deps).encode()).hexdigest()[:24]


def _digest(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:32]


def code_files() -> list[Path]:
    """Every module and data file of the analyzer and of the checkers, whose findings
    the store keeps too."""
    root = Path(__file__).resolve().parent.parent
    dirs = [root, root.parent / "checkers"]
    return sorted(p for d in dirs if d.is_dir() for p in d.rglob("*")
                  if p.suffix in (".py", ".toml"))


@functools.cache
def code_fingerprint() -> str:
    """The analyzer's own code and data: a store written by other code is not reused."""
    root = Path(__file__).resolve().parent.parent.parent
    h = hashlib.sha256()
    for src in code_files():
        h.update(str(src.relative_to(root)).encode())
        h.update(src.read_bytes())
    return h.hexdigest()[:16]
