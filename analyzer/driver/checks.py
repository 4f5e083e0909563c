"""The check task: one unit's functions under every checker, against summaries that
the reduce has fixed.  It carries all it needs, so it runs in any worker."""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.driver import store as storage
from analyzer.interproc.program import Budget, Node, Program, UnitInfo
from analyzer.interproc.summaries import Summary
from analyzer.model import ApiModel


@dataclass
class CheckTask:
    info: UnitInfo
    nodes: list[Node]                                  # the unit's own functions
    bodies: dict[str, bytes]                           # encoded, as the store keeps them
    fixed: dict[str, dict[str, str | None]]            # per function: name -> definition
    callers: set[str] = field(default_factory=set)     # its functions that have callers
    summaries: dict[str, Summary] = field(default_factory=dict)  # of every definition reached
    # what other functions release of the callees the unit's functions call
    elsewhere: dict[str, list] = field(default_factory=dict)
    # the definitions reached that were read in files followed for them
    followed: set[str] = field(default_factory=set)
    # the counters the run's puts show to be reference counts (`engine.counters`)
    refcounts: frozenset[tuple[str, str]] = frozenset()


def check_unit(task: CheckTask, model: ApiModel, checkers: list, budget: Budget) -> bytes:
    """Run the checks; the result comes back encoded, as the store keeps it."""
    prog = Program(model, checkers, budget)
    prog.add_unit(task.info, task.nodes)
    prog.bodies = {nid: storage.CODEC.loads(blob) for nid, blob in task.bodies.items()}
    prog.fixed = task.fixed
    prog.callers = task.callers
    prog.summaries = task.summaries
    prog.followed = task.followed
    prog.refcounts = task.refcounts
    prog.elsewhere = {(task.info.path, k): tuple(v) for k, v in task.elsewhere.items()}
    return storage.CODEC.dumps(prog.check_unit(task.info.path))
