"""Phase 1 for many files: parse and lower each TU in its own process, with a cache.

Each translation unit is parsed and lowered in a forked worker, so `-j N` runs N
at once and a TU that crashes libclang takes down only its worker: it is
reported and skipped.  The lowered result is plain data; it is cached per TU,
keyed by the flags, the model and rcucheck's version, and valid while the file
and every header it included are unchanged (size and mtime), so an unchanged TU
costs a cache read instead of a parse.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing
import os
import pickle
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from analyzer import __version__, clangsetup
from analyzer.analysis import LoweredTU, lower_tu
from analyzer.compdb import CompileCommand
from analyzer.errors import InputError
from analyzer.flags import translate
from analyzer.frontend import parse_command
from analyzer.model import ApiModel


@dataclass
class Outcome:
    """What phase 1 made of one compile command."""

    cmd: CompileCommand
    lowered: LoweredTU | None = None
    error: str | None = None           # one sentence: why the TU was not analysed
    parse_errors: list | None = None   # libclang's error diagnostics, when that is why


def default_cache_dir() -> Path:
    base = os.environ.get("RCUCHECK_CACHE") or \
        str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rcucheck")
    return Path(base) / "tu"


class TUCache:
    def __init__(self, directory: Path | None, model: ApiModel) -> None:
        self.dir = directory
        self.model_fp = model.fingerprint()

    def key(self, cmd: CompileCommand) -> str:
        args = translate(list(cmd.argv), cmd.directory, cmd.file).args
        data = "\0".join([__version__, _code_fingerprint(), self.model_fp, cmd.file, *args])
        return hashlib.sha256(data.encode()).hexdigest()

    def get(self, cmd: CompileCommand) -> LoweredTU | None:
        if self.dir is None:
            return None
        path = self.dir / f"{self.key(cmd)}.pickle"
        try:
            with path.open("rb") as f:
                entry = pickle.load(f)
        except (OSError, EOFError, pickle.PickleError, AttributeError, ImportError,
                ValueError):
            return None
        if entry.get("main") != _digest(cmd.file):
            return None
        for dep, size, mtime in entry["deps"]:
            try:
                st = os.stat(dep)
            except OSError:
                return None
            if st.st_size != size or st.st_mtime_ns != mtime:
                return None
        low = entry["lowered"]
        low.cached = True
        return low

    def put(self, cmd: CompileCommand, low: LoweredTU, deps: list[str]) -> None:
        if self.dir is None:
            return
        stats = []
        for dep in deps:
            try:
                st = os.stat(dep)
            except OSError:
                return
            stats.append((dep, st.st_size, st.st_mtime_ns))
        entry = {"main": _digest(cmd.file), "deps": stats, "lowered": low}
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f".{self.key(cmd)}.{os.getpid()}.tmp"
            with tmp.open("wb") as f:
                pickle.dump(entry, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.dir / f"{self.key(cmd)}.pickle")
        except OSError:
            pass  # a cache that cannot be written is only slower


@functools.cache
def _code_fingerprint() -> str:
    """The lowering's own source: a cache written by other code is not reused."""
    h = hashlib.sha256()
    for src in sorted(Path(__file__).parent.glob("*.py")):
        h.update(src.read_bytes())
    return h.hexdigest()[:16]


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _work(cmd: CompileCommand, model: ApiModel, cache: TUCache, libclang: str | None,
          conn) -> None:
    """In the worker: parse, lower, cache, send the outcome back."""
    try:
        clangsetup.load(libclang)
        parsed = parse_command(cmd)
        if parsed.errors:
            out = Outcome(cmd, error=f"{len(parsed.errors)} parse errors",
                          parse_errors=parsed.errors)
        else:
            low = lower_tu(parsed, model)
            deps = sorted({inc.include.name for inc in parsed.tu.get_includes()})
            cache.put(cmd, low, deps)
            out = Outcome(cmd, lowered=low)
    except InputError as exc:
        out = Outcome(cmd, error=str(exc))
    except Exception as exc:  # a bug of ours in one TU must not stop the run
        out = Outcome(cmd, error=f"internal error {type(exc).__name__}: {exc}")
    conn.send_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    conn.close()


def run(commands: list[CompileCommand], model: ApiModel, jobs: int = 1,
        cache_dir: Path | None = None, libclang: str | None = None) -> list[Outcome]:
    """Phase 1 for every command, at most `jobs` at once; results in command order."""
    cache = TUCache(cache_dir, model)
    results: dict[int, Outcome] = {}
    todo = []
    for i, cmd in enumerate(commands):
        low = cache.get(cmd)
        if low is not None:
            results[i] = Outcome(cmd, lowered=low)
        else:
            todo.append(i)
    ctx = multiprocessing.get_context("fork")
    running: dict = {}
    while todo or running:
        while todo and len(running) < max(jobs, 1):
            i = todo.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_work, args=(commands[i], model, cache, libclang, child),
                               daemon=True)
            proc.start()
            child.close()
            running[parent] = (i, proc)
        for conn in wait(list(running)):
            i, proc = running.pop(conn)
            try:
                results[i] = pickle.loads(conn.recv_bytes())
            except (EOFError, OSError):
                proc.join()
                code = proc.exitcode
                why = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
                results[i] = Outcome(commands[i], error=f"libclang crashed ({why})")
            conn.close()
            proc.join()
    return [results[i] for i in range(len(commands))]
