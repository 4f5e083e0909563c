"""Phase 1 for many files: parse and lower each TU in its own process, with a cache.

Each translation unit is parsed and lowered in a forked worker, so `-j N` runs N
at once and a TU that crashes libclang takes down only its worker: it is
reported and skipped.  The lowered result is plain data, cached per TU.
"""

from __future__ import annotations

import multiprocessing
import pickle
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from analyzer.build.compdb import CompileCommand
from analyzer.driver.cache import TUCache
from analyzer.errors import InputError
from analyzer.frontend import clang as clangsetup
from analyzer.frontend.parse import Diagnostic, parse_file
from analyzer.lower.tu import LoweredTU, lower_tu
from analyzer.model import ApiModel


@dataclass(frozen=True)
class Job:
    """One translation unit to analyse.

    `file` is what libclang parses with `args`; `name` is the path its findings carry
    (the tree's file, when a change is checked in an overlay).
    """

    file: str
    args: tuple[str, ...]
    name: str

    @classmethod
    def of(cls, cmd: CompileCommand) -> Job:
        return cls(cmd.file, cmd.args, cmd.file)


@dataclass
class Outcome:
    """What phase 1 made of one job."""

    job: Job
    lowered: LoweredTU | None = None
    error: str | None = None                      # why the TU was not analysed
    parse_errors: list[Diagnostic] | None = None  # libclang's errors, when that is why
    crashed: bool = False                         # libclang took its worker down


def lower_job(job: Job, model: ApiModel, known=frozenset()) -> Outcome:
    """Parse and lower one job in this process (header inlines in `known` are not)."""
    try:
        parsed = parse_file(Path(job.file), list(job.args))
    except InputError as exc:
        return Outcome(job, error=str(exc))
    if parsed.errors:
        return Outcome(job, error=f"{len(parsed.errors)} parse errors",
                       parse_errors=parsed.errors)
    return Outcome(job, lowered=lower_tu(parsed, model, known, name=job.name))


def _work(job: Job, model: ApiModel, cache: TUCache, libclang: str | None, known,
          conn) -> None:
    """In the worker: parse, lower, cache, send the outcome back."""
    try:
        clangsetup.load(libclang)
        out = lower_job(job, model, known)
        if out.lowered is not None:
            cache.put(job, out.lowered)
    except InputError as exc:
        out = Outcome(job, error=str(exc))
    except Exception as exc:  # a bug of ours in one TU must not stop the run
        out = Outcome(job, error=f"internal error {type(exc).__name__}: {exc}")
    conn.send_bytes(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    conn.close()


def run(jobs: list[Job], model: ApiModel, workers: int = 1, cache_dir: Path | None = None,
        libclang: str | None = None, progress=None, use_cached: bool = True
        ) -> list[Outcome]:
    """Phase 1 for every job, at most `workers` at once; outcomes in job order.

    A header inline lowered for one unit is not lowered again for a unit started after
    it (the unit records its key only).  `progress(outcome)` is called as each job
    finishes.
    """
    cache = TUCache(cache_dir, model)
    results: dict[int, Outcome] = {}
    known: set[tuple[str, int, str]] = set()
    todo = []
    for i, job in enumerate(jobs):
        low = cache.get(job) if use_cached else None
        if low is not None:
            results[i] = Outcome(job, lowered=low)
            known |= lowered_headers(low)
            if progress:
                progress(results[i])
        else:
            todo.append(i)
    ctx = multiprocessing.get_context("fork")
    running: dict = {}
    while todo or running:
        while todo and len(running) < max(workers, 1):
            i = todo.pop(0)
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_work, daemon=True,
                               args=(jobs[i], model, cache, libclang, frozenset(known), child))
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
                results[i] = Outcome(jobs[i], error=f"libclang crashed ({why})", crashed=True)
            conn.close()
            proc.join()
            if results[i].lowered is not None:
                known |= lowered_headers(results[i].lowered)
            if progress:
                progress(results[i])
    return [results[i] for i in range(len(jobs))]


def lowered_headers(low: LoweredTU) -> set[tuple[str, int, str]]:
    """The header inlines whose bodies a unit's lowering carries."""
    return {key for key, fn in low.headers.values() if fn is not None}


def missing_headers(outcomes: list[Outcome]) -> list[int]:
    """Units that rely on a header inline no unit of this run carries the body of.

    A unit lowered (or cached) after another that lowered the header records only the
    header's key; when that other unit is not part of this run, it must be lowered again.
    """
    have = set().union(*(lowered_headers(o.lowered) for o in outcomes if o.lowered))
    return [i for i, o in enumerate(outcomes) if o.lowered and any(
        fn is None and key not in have for key, fn in o.lowered.headers.values())]
