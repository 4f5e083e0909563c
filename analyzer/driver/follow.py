"""Callees in other files, followed: their definitions parsed and summarised on demand.

Most of what decides a finding in a file checked alone sits in other files: whether
`bpf_prog_inc()` takes a reference, `ipc_rcu_getref()` may fail, `page_offline_begin()`
sleeps, `ip6_route_output_flags()` returns a counted dst.  The model names a few hundred
such APIs; the tree has tens of thousands.  A run therefore looks up where the tree
defines the global functions its units call and nothing describes (no model entry, no
definition in the run), parses those files, lowers only the definitions asked for and
what they reach in their file, and summarises them like any other function: their
summaries are what the calls see.  The callees those definitions leave unknown are
followed once more (depth 2), within the same budget.

The budget is a number of files per analysed unit, spent first on the files nearest
the caller in the tree (its own directory, then its subsystem's), then on those whose
functions are called from the most functions (ties by path): deterministic, whatever
the machine.  Followed files are never checked or reported; the store keeps them like any
unit, so a later run pays nothing for them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from analyzer.build.symbols import DefinitionIndex
from analyzer.build.tree import KernelTree
from analyzer.driver.phase1 import Job
from analyzer.errors import InputError
from analyzer.interproc.program import Program

DEFAULT_FILES = 8
DEPTH = 2


@dataclass
class Follow:
    """Where the tree defines what, and how much of it a run may follow."""

    tree: KernelTree
    index: DefinitionIndex
    files_per_unit: int = DEFAULT_FILES
    depth: int = DEPTH

    def run(self, prog: Program, paths: list[str],
            add: Callable[[list[Job]], list[str]]) -> int:
        """Follow the units `paths`' unknown callees, `depth` rounds: `add` maps a
        round's jobs into `prog` and says which units it added.  The number of files
        followed."""
        done: set[str] = set()
        left = self.files_per_unit * len(paths)
        n = 0
        for depth in range(self.depth):
            # (a first round leaves a third of the budget to the callees' own callees)
            share = left if depth == self.depth - 1 else -(-left * 2 // 3)
            prog.summarize()  # the call sites' states say which callees matter most
            jobs = self.plan(prog, paths, share, done)
            if not jobs:
                break
            left -= len(jobs)
            n += len(jobs)
            paths = add(jobs)
            prog.followed.update(nid for p in paths for nid in prog.units[p].functions)
        return n

    def plan(self, prog: Program, paths: Iterable[str], budget: int,
             done: set[str]) -> list[Job]:
        """Jobs for at most `budget` files defining what the units `paths` call and
        nothing in `prog` or the model describes (files in `done` are not again), the
        files of the callees the rules ask most about first."""
        paths = list(paths)
        if budget <= 0 or not paths:
            return []
        wanted = unknown_callees(prog, paths)
        names: dict[str, set[str]] = defaultdict(set)
        rank: dict[str, int] = {}
        weight: Counter[str] = Counter()
        for name, (question, n) in wanted.items():
            rel = self._defining_file(name, paths)
            if rel is None or rel in done:
                continue
            if question == OTHER and self.index.returns_pointer(name):
                question = OBJECT
            names[rel].add(name)
            rank[rel] = min(rank.get(rel, OTHER), question)
            weight[rel] += n
        dirs = [Path(self.tree.relative(p)).parent.parts for p in paths]
        chosen = sorted(weight, key=lambda f: (rank[f], -_nearness(f, dirs), -weight[f],
                                               f))[:budget]
        done.update(chosen)
        return [job for rel in chosen
                for job in [self._job(rel, tuple(sorted(names[rel])), chosen)] if job]

    def _job(self, rel: str, focus: tuple[str, ...], batch: list[str]) -> Job | None:
        """The job that reads `focus` in `rel`, with kbuild's flags for it: the compile
        database's, else those the index kept, else kbuild's answer (asked once for the
        whole batch, and kept)."""
        src = self.tree.root / rel
        args = None
        if self.tree.compdb is None or self.tree.compdb.get(str(src)) is None:
            args = self.index.flags(rel)
            if args is None:
                self.tree.ask_kbuild([self.tree.root / f for f in batch
                                      if self.index.flags(f) is None])
        if args is None:
            try:
                # flags for a file not in the compile database too: it is only read
                cmd = self.tree.command_for(src, derive=True)
            except InputError:  # no flags for it: the calls stay unknown
                return None
            args = cmd.args
            if self.tree.compdb is None or self.tree.compdb.get(str(src)) is None:
                self.index.remember_flags(rel, args)
        return Job(str(src), args, str(src), focus=focus)

    def _defining_file(self, name: str, paths: Iterable[str]) -> str | None:
        """The one file that defines `name` for this configuration: the only one, else
        the only one in a directory of the callers'.  Other names defined in several
        files (a `__weak` default and its overrides, one driver's helper named as
        another's) are left unknown: which one links is kbuild's to say, at a `make`
        per directory."""
        files = self.index.files(name)
        if len(files) <= 1:
            return files[0] if files else None
        dirs = {str(Path(self.tree.relative(p)).parent) for p in paths}
        near = [f for f in files if str(Path(f).parent) in dirs]
        return near[0] if len(near) == 1 else None


def _nearness(rel: str, dirs: list[tuple[str, ...]]) -> int:
    """How many leading directories `rel` shares with the nearest caller's: a
    subsystem's own helpers are what no model describes; the kernel's core APIs are
    modelled, or called from everywhere for what rules do not ask (printk, WARN)."""
    parts = Path(rel).parent.parts
    best = 0
    for d in dirs:
        n = 0
        for a, b in zip(parts, d, strict=False):
            if a != b:
                break
            n += 1
        best = max(best, n)
    return best


# what a rule may ask of an unknown callee, most pressing first: does it sleep or need
# RCU (called inside a read-side section, or by a function that is); what goes with the
# object it returns or is given (it returns a pointer, or is called holding references);
# anything else
IN_SECTION, OBJECT, OTHER = 0, 1, 2


def unknown_callees(prog: Program, paths: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Names the units' functions (and the header inlines and functions of the program
    they reach) call that no definition of the program and no model entry describes:
    the most pressing question each call site raises, and how many functions call it."""
    mine = [nid for p in paths for nid in prog.units[p].functions]
    # functions run inside a caller's section: callees of calls made holding one
    inside: set[str] = set()
    todo = [c for nid in mine for site in prog.sites.get(nid, ()) if site.rcu_held
            for c in [prog.resolve(nid, site.callee)] if c is not None]
    while todo:
        nid = todo.pop()
        if nid in inside or nid not in prog.nodes:
            continue
        inside.add(nid)
        todo += [c for name in prog.nodes[nid].callees
                 for c in [prog.resolve(nid, name)] if c is not None]
    out: dict[str, tuple[int, int]] = {}
    seen: set[str] = set()
    todo = [*mine, *inside]
    while todo:
        nid = todo.pop()
        if nid in seen or nid not in prog.nodes:
            continue
        seen.add(nid)
        node = prog.nodes[nid]
        asked = {site.callee: IN_SECTION if site.rcu_held or nid in inside else
                 OBJECT if site.refs else OTHER for site in prog.sites.get(nid, ())}
        for name in node.callees:
            callee = prog.resolve(nid, name)
            if callee is not None:
                if callee in prog.nodes and prog.nodes[callee].unit is None:
                    todo.append(callee)  # a header inline: what it calls counts too
            elif prog.model.fn(name) is None:
                q, n = out.get(name, (OTHER, 0))
                out[name] = (min(q, asked.get(name, OTHER)), n + 1)
    return out
