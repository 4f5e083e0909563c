"""Phase 1 — the map: parse and lower each TU, and summarise it on its own.

A map task runs in a worker (a forked process or a Dask worker): it parses and
lowers one translation unit, summarises its functions with what the unit itself
defines, and sends back plain data — the unit's nodes, each body encoded for the
store, the local summaries and the fingerprints of every input file.  A TU that
crashes libclang takes down only its worker: it is reported and skipped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.build.compdb import CompileCommand
from analyzer.driver import store as storage
from analyzer.driver.executors import LocalExecutor, TaskOutcome
from analyzer.errors import InputError
from analyzer.frontend import clang as clangsetup
from analyzer.frontend.parse import Diagnostic, PreambleUse, parse_file
from analyzer.frontend.preamble import Preambles
from analyzer.interproc.observer import CallSite
from analyzer.interproc.program import Budget, Node, Program, UnitInfo, check_inputs, split_unit
from analyzer.interproc.summaries import Summary
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
    # parse against a stored preamble built with these flags (the tree's own file's);
    # empty: parse the whole file
    preamble_args: tuple[str, ...] = ()
    # only these definitions and what they reach in the file: a file followed for the
    # callees another one has there (`follow`), summarised, never checked
    focus: tuple[str, ...] = ()

    @classmethod
    def of(cls, cmd: CompileCommand) -> Job:
        return cls(cmd.file, cmd.args, cmd.file)


@dataclass
class Outcome:
    """What phase 1 made of one job."""

    job: Job
    lowered: LoweredTU | None = None              # in-process lowering only
    meta: storage.UnitMeta | None = None          # the unit's costs and includes
    error: str | None = None                      # why the TU was not analysed
    parse_errors: list[Diagnostic] | None = None  # libclang's errors, when that is why
    crashed: bool = False                         # libclang took its worker down


@dataclass
class MapOutput:
    """A map task's result: plain data, bodies already encoded for the store."""

    meta: storage.UnitMeta
    info: UnitInfo
    nodes: list[Node]
    owned: list[tuple[str, int, str]]       # header inlines whose bodies it carries
    bodies: dict[str, bytes]
    summaries: list[tuple[Node, str, Summary, list[CallSite]]] = field(default_factory=list)
    deps: list | None = None
    # the unit checked with what it defines itself, and the inputs that check consumed:
    # still valid when the whole program gives the same inputs
    checked: bytes = b""
    check_inputs: str = ""


def lower_job(job: Job, model: ApiModel, known=frozenset(),
              preambles: str | None = None) -> Outcome:
    """Parse and lower one job in this process (header inlines in `known` are not), against
    a preamble stored in the directory `preambles` when the job asks for one."""
    use = None
    if preambles and job.preamble_args:
        cindex = clangsetup.load()
        use = PreambleUse(Preambles(Path(preambles), version=clangsetup.libclang_version(
            cindex)), job.preamble_args, str(Path(job.name).parent))
    try:
        parsed = parse_file(Path(job.file), list(job.args), use)
    except InputError as exc:
        return Outcome(job, error=str(exc))
    if parsed.errors:
        return Outcome(job, error=f"{len(parsed.errors)} parse errors",
                       parse_errors=parsed.errors)
    return Outcome(job, lowered=lower_tu(parsed, model, known, name=job.name,
                                         focus=job.focus))


def _lower_in_worker(job: Job, model: ApiModel, libclang: str | None) -> Outcome:
    clangsetup.load(libclang)
    return lower_job(job, model)


def lower_many(jobs: list[Job], model: ApiModel, workers: int = 1,
               libclang: str | None = None) -> list[Outcome]:
    """Lowered units in this process's memory, bodies and all (`cfg`, the mutants)."""
    res = LocalExecutor(workers).map(_lower_in_worker,
                                     [(job, model, libclang) for job in jobs])
    return [r.value if r.value is not None else _failed(job, r)
            for job, r in zip(jobs, res, strict=True)]


def map_unit(job: Job, key: str, model: ApiModel, checkers: list, check_key: str,
             budget: Budget, libclang: str | None,
             preambles: str | None = None) -> MapOutput | Outcome:
    """The map task: lower, summarise and check locally, encode."""
    clangsetup.load(libclang)
    out = lower_job(job, model, preambles=preambles)
    low = out.lowered
    if low is None:
        return out
    info, nodes, bodies = split_unit(low, key, model)
    prog = Program(model, checkers, budget)
    prog.add_unit(info, nodes)
    prog.bodies = bodies
    t0 = time.perf_counter()
    prog.summarize()
    checked = prog.check_unit(info.path) if not job.focus else None
    meta = storage.UnitMeta(low.path, low.parse_seconds, low.lower_seconds, low.includes,
                            low.parse_errors, analysis_seconds=time.perf_counter() - t0)
    owned = [k for k, fn in low.headers.values() if fn is not None]
    return MapOutput(meta, info, nodes, owned,
                     {nid: storage.CODEC.dumps(fn) for nid, fn in bodies.items()},
                     prog.made, storage.fingerprints(job.file, low.includes),
                     storage.CODEC.dumps(checked) if checked is not None else b"",
                     check_inputs(prog, info.path, check_key) if checked is not None else "")


def _failed(job: Job, r: TaskOutcome) -> Outcome:
    return Outcome(job, error=r.error, crashed=r.crashed)


def as_outcome(job: Job, r: TaskOutcome) -> Outcome | MapOutput:
    """A map task's outcome: its output, or why the unit is not analysed."""
    if r.value is None:
        return _failed(job, r)
    return r.value
