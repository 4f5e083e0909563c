"""rcucheck's mutation benchmark: recall on bugs injected into real kernel files.

Generic operators are applied at every site of a file where they make a bug:

  del-unlock     delete an rcu_read_unlock() (any explicit flavour, srcu by handle)
  del-lock       delete an rcu_read_lock()
  del-put        delete a put whose object the same function gets or trygets
  ins-sleep      insert cond_resched() just inside a vanilla read-side section
  put-outside    move the put of an RCU walk's cursor before the rcu_read_lock() that
                 re-enters the section the walk continues in
  free-direct    replace kfree_rcu()/kvfree_rcu()/call_rcu() by the free it defers
  del-sync       delete the synchronize_rcu() between unpublishing and freeing
  tryget-get     replace a tryget inside a read-side section by a plain get
  drop-check     throw away a tryget's result (`(tryget(x), 1)`: it is taken as success)
  use-after      swap a statement that dereferences an RCU-loaded pointer with the
                 rcu_read_unlock() right after it

Each mutant is written to a scratch copy and scanned on its own, exactly as a user
scans the file a change touches; it counts as found when the scan reports, at
warning level, a finding of one of the operator's rules that the original does not
have.  Sites are found from the lowered form of the original (which call is where)
and its source lines; the analysis of the mutant is the one under test.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.build.tree import KernelTree
from analyzer.driver.phase1 import Job, lower_job
from analyzer.driver.session import Session
from analyzer.errors import InputError
from analyzer.frontend import clang as clangsetup
from analyzer.interproc.program import Program
from analyzer.ir import Assign, Call, Function, Walk
from analyzer.model import ApiModel
from analyzer.report import fingerprints
from checkers import checker_classes

EXPECT = {
    "del-unlock": {"rcu-unbalanced", "rcu-sleep-in-reader"},
    "del-lock": {"rcu-unbalanced", "rcu-deref-unprotected"},
    "del-put": {"ref-leak"},
    "ins-sleep": {"rcu-sleep-in-reader"},
    "put-outside": {"ref-put-outside-rcu"},
    "free-direct": {"rcu-free-without-grace", "rcu-use-after-unlock"},
    "del-sync": {"rcu-free-without-grace"},
    "tryget-get": {"ref-get-unsafe"},
    "drop-check": {"ref-unchecked-tryget"},
    "use-after": {"rcu-use-after-unlock"},
}
OPERATORS = list(EXPECT)

# the plain get that goes with each tryget: `{0}` is the tryget's first argument
PLAIN_GET = {
    "css_tryget": "css_get({0})", "css_tryget_online": "css_get({0})",
    "mem_cgroup_tryget": "css_get(&({0})->css)",
    "mem_cgroup_tryget_online": "css_get(&({0})->css)",
    "obj_cgroup_tryget": "obj_cgroup_get({0})",
    "shrinker_try_get": "refcount_inc(&({0})->refcount)",
    "refcount_inc_not_zero": "refcount_inc({0})", "kref_get_unless_zero": "kref_get({0})",
    "percpu_ref_tryget": "percpu_ref_get({0})", "percpu_ref_tryget_live": "percpu_ref_get({0})",
    "percpu_ref_tryget_live_rcu": "percpu_ref_get({0})",
    "cgroup_tryget": "cgroup_get({0})", "atomic_inc_not_zero": "atomic_inc({0})",
    "atomic_long_inc_not_zero": "atomic_long_inc({0})",
}
FREE_FOR = {"kfree_rcu": "kfree", "kvfree_rcu": "kvfree", "kfree_rcu_mightsleep": "kfree",
            "kvfree_rcu_mightsleep": "kvfree"}
_STATEMENT = re.compile(r"^\s*(\w+)\s*\((.*)\)\s*;\s*(/\*.*\*/)?\s*$")


@dataclass
class Mutant:
    operator: str
    function: str
    line: int
    what: str
    text: str


@dataclass
class Outcome:
    mutant: Mutant
    found: bool
    rules: list[str] = field(default_factory=list)
    notes_only: bool = False
    error: str | None = None


def split_args(text: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


class Sites:
    """Where each operator applies in one file, from its lowered functions and lines."""

    def __init__(self, model: ApiModel, lines: list[str], functions: list[Function],
                 extents: dict[str, tuple[int, int]]):
        self.model = model
        self.lines = lines
        self.functions = functions
        self.extents = extents
        fl = model.flavours
        self.locks = {n for n, f in model.fns.items() if f.enter and not f.enter_if
                      and (fl[f.enter].explicit or fl[f.enter].handle)}
        self.unlocks = {n for n, f in model.fns.items() if f.exit
                        and (fl[f.exit].explicit or fl[f.exit].handle)}
        self.vanilla_locks = {n for n in self.locks
                              if model.flavours[model.fns[n].enter].vanilla}

    # --- helpers ---------------------------------------------------------------------
    def statement(self, line: int, names) -> tuple[str, list[str]] | None:
        """The call on `line` when the line is that call's whole statement."""
        m = _STATEMENT.match(self.lines[line - 1])
        if m and m.group(1) in names:
            return m.group(1), split_args(m.group(2))
        return None

    def calls(self, fn: Function):
        for b in fn.blocks:
            for ev in b.events:
                if isinstance(ev, Call) and ev.callee and ev.loc.file == fn.loc.file:
                    yield ev

    def depth_at(self, fn: Function, line: int) -> int:
        """Textual nesting of vanilla sections at the start of `line` in `fn`."""
        start, _ = self.extents[fn.name]
        depth = 0
        for n in range(start, line):
            st = self.statement(n, self.locks | self.unlocks)
            if st is None:
                continue
            fm = self.model.fns[st[0]]
            if fm.enter and self.model.flavours[fm.enter].vanilla:
                depth += 1
            elif fm.exit and self.model.flavours[fm.exit].vanilla:
                depth = max(depth - 1, 0)
        return depth

    def replace(self, line: int, new: str) -> str:
        out = list(self.lines)
        out[line - 1] = new
        return "\n".join(out) + "\n"

    def swap(self, a: int, b: int) -> str:
        out = list(self.lines)
        out[a - 1], out[b - 1] = out[b - 1], out[a - 1]
        return "\n".join(out) + "\n"

    def next_statement(self, line: int, end: int) -> int | None:
        for n in range(line + 1, end + 1):
            if self.lines[n - 1].strip():
                return n
        return None

    # --- operators -------------------------------------------------------------------
    def mutants(self) -> list[Mutant]:
        out: list[Mutant] = []
        for fn in self.functions:
            if fn.name not in self.extents:
                continue
            out += self.for_function(fn)
        return out

    def for_function(self, fn: Function) -> list[Mutant]:
        out = []
        start, end = self.extents[fn.name]
        calls = list(self.calls(fn))
        lines_with = {ev.loc.line for ev in calls}
        taken = {ev.args[i].root for ev in calls
                 for fm in [self.model.fn(ev.callee)] if fm
                 for i in (fm.get, fm.tryget) if i is not None and i < len(ev.args)}
        taken |= {ev.target.root for b in fn.blocks for ev in b.events
                  if isinstance(ev, Assign) and ev.value.kind == "call"
                  and ev.value.tmp in {c.result for c in calls
                                       if (self.model.fn(c.callee) or _NO).returns_ref}}
        cursors = {ev.cursor.text for b in fn.blocks for ev in b.events if isinstance(ev, Walk)}
        seen: set[tuple[str, int]] = set()

        def add(op: str, line: int, what: str, text: str) -> None:
            if (op, line) not in seen:
                seen.add((op, line))
                out.append(Mutant(op, fn.name, line, what, text))

        for ev in calls:
            line = ev.loc.line
            fm = self.model.fn(ev.callee)
            if fm is None:
                continue
            if ev.callee in self.unlocks and self.statement(line, self.unlocks):
                add("del-unlock", line, f"delete {ev.callee}()", self.replace(line, ""))
            if ev.callee in self.locks and self.statement(line, self.locks):
                add("del-lock", line, f"delete {ev.callee}()", self.replace(line, ""))
                if ev.callee in self.vanilla_locks:
                    add("ins-sleep", line, f"cond_resched() after {ev.callee}()",
                        self.replace(line, self.lines[line - 1] + " cond_resched();"))
                    nxt = self.next_statement(line, end)
                    put = self.statement(nxt, self.model.fns) if nxt else None
                    if put and self.model.fns[put[0]].put == 0 and put[1] and \
                            put[1][0].strip("&()") in cursors:
                        add("put-outside", nxt, f"{put[0]}({put[1][0]}) before {ev.callee}()",
                            self.swap(line, nxt))
            if fm.put is not None:
                st = self.statement(line, {ev.callee})
                arg = st[1][fm.put] if st and fm.put < len(st[1]) else None
                root = re.match(r"&?\(?(\w+)", arg).group(1) if arg else None
                if root and root in taken:
                    add("del-put", line, f"delete {ev.callee}({arg})", self.replace(line, ""))
            if ev.callee in FREE_FOR or ev.callee in ("call_rcu", "call_rcu_hurry"):
                st = self.statement(line, {ev.callee})
                if st and len(st[1]) == 2:
                    direct = f"{FREE_FOR[ev.callee]}({st[1][0]})" if ev.callee in FREE_FOR \
                        else f"{st[1][1]}({st[1][0]})"
                    indent = re.match(r"\s*", self.lines[line - 1]).group(0)
                    add("free-direct", line, f"{ev.callee}() → {direct}",
                        self.replace(line, f"{indent}{direct};"))
            if fm.grace_period and self.statement(line, {ev.callee}):
                before = [c for c in calls if c.loc.line < line and
                          ((self.model.fn(c.callee) or _NO).unpublishes is not None
                           or c.callee in ("rcu_assign_pointer", "rcu_replace_pointer",
                                           "RCU_INIT_POINTER"))]
                after = [c for c in calls if c.loc.line > line and
                         (self.model.fn(c.callee) or _NO).frees is not None]
                if before and after:
                    add("del-sync", line, f"delete {ev.callee}()", self.replace(line, ""))
            if fm.tryget is not None and ev.callee in PLAIN_GET:
                self.tryget_mutants(fn, ev, add)
        for line in range(start, end + 1):
            st = self.statement(line, self.unlocks)
            if st is None or st[0] not in self.unlocks or line not in lines_with:
                continue
            prev = line - 1
            while prev > start and not self.lines[prev - 1].strip():
                prev -= 1
            text = self.lines[prev - 1]
            uses = [v for v in self.rcu_loaded(fn, start, prev)
                    if re.search(rf"\b{re.escape(v)}\s*->", text)]
            indent = re.match(r"\s*", text).group(0)
            if uses and text.rstrip().endswith(";") and text.count("(") == text.count(")") \
                    and indent == re.match(r"\s*", self.lines[line - 1]).group(0) \
                    and not re.match(r"\s*(if|for|while|return|goto|break|continue)\b", text) \
                    and not any(v in taken for v in uses):
                add("use-after", prev, f"`{uses[0]}` used after {st[0]}()", self.swap(prev, line))
        return out

    def rcu_loaded(self, fn: Function, start: int, before: int) -> set[str]:
        """Locals assigned first-hand from an RCU accessor, lookup or walk in [start, before)."""
        out = set()
        results = {}
        for b in fn.blocks:
            for ev in b.events:
                if isinstance(ev, Call) and ev.callee:
                    fm = self.model.fn(ev.callee)
                    if fm is not None and fm.returns_rcu is True:
                        results[ev.result] = ev
        for b in fn.blocks:
            for ev in b.events:
                if not (start <= ev.loc.line < before):
                    continue
                if isinstance(ev, Assign) and ev.target.kind == "var" and (
                        ev.value.kind == "rcu" or ev.value.tmp in results):
                    out.add(ev.target.text)
                elif isinstance(ev, Walk) and not ev.step:
                    out.add(ev.cursor.text)
        return out

    def tryget_mutants(self, fn: Function, ev: Call, add) -> None:
        """A tryget whose result is used: a plain get inside RCU, or the result dropped."""
        if ev.discarded:
            return
        line = ev.loc.line
        text = self.lines[line - 1]
        span = call_span(text, ev.loc.col - 1, ev.callee)
        if span is None:
            return
        start, end = span
        call = text[start:end]
        args = split_args(call[call.index("(") + 1:-1])
        if self.depth_at(fn, line) > 0 and args:
            plain = PLAIN_GET[ev.callee].format(args[0])
            add("tryget-get", line, f"{ev.callee}() → {plain}",
                self.replace(line, f"{text[:start]}({plain}, 1){text[end:]}"))
        add("drop-check", line, f"{ev.callee}() result ignored",
            self.replace(line, f"{text[:start]}({call}, 1){text[end:]}"))


def call_span(text: str, col: int, name: str) -> tuple[int, int] | None:
    """[start, end) of the call `name(...)` that starts at `col` of `text`, parens balanced."""
    if text[col:col + len(name)] != name:
        return None
    i = col + len(name)
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text) or text[i] != "(":
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "(":
            depth += 1
        elif text[j] == ")":
            depth -= 1
            if depth == 0:
                return col, j + 1
    return None


class _NoModel:
    returns_ref = False
    unpublishes = None
    frees = None


_NO = _NoModel()


def function_extents(parsed) -> dict[str, tuple[int, int]]:
    return {f.name: (f.cursor.extent.start.line, f.cursor.extent.end.line)
            for f in parsed.functions}


def scan_alone(session: Session, low, followed: dict | None = None) -> list:
    """The unit's findings, as `rcucheck scan` of the file alone gives them: with the
    callees the session follows into other files (`followed` keeps their lowered units
    from one call to the next)."""
    prog = Program(session.model, session.checkers, session.budget)
    prog.add(low)
    if session.follow is not None:
        kept = followed if followed is not None else {}

        def add(jobs: list[Job]) -> list[str]:
            todo = [j for j in jobs if j not in kept]
            for j, out in zip(todo, session.lower(todo), strict=True):
                kept[j] = out.lowered
            added = []
            for j in jobs:
                unit = kept[j]
                if unit is not None and unit.path not in prog.units:
                    prog.add(unit, tu=j.file)
                    added.append(unit.path)
            return added

        session.follow.run(prog, [low.path], add)
    res = prog.analyze([low.path])
    return fingerprints.assign([f for r in res.values() for f in r.findings], session.rel)


def run_file(tree: KernelTree, rel: str, session: Session, operators: list[str],
             limit: int | None, verbose: bool) -> list[Outcome]:
    from analyzer.frontend.parse import parse_command

    src = tree.resolve(rel)
    cmd = tree.command_for(src)
    parsed = parse_command(cmd)
    base_out = lower_job(Job.of(cmd), session.model)
    if base_out.lowered is None:
        raise InputError(f"{rel}: {base_out.error}")
    base = {f.fingerprint for f in scan_alone(session, base_out.lowered)}
    lines = src.read_text().split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    sites = Sites(session.model, lines, base_out.lowered.functions, function_extents(parsed))
    mutants = [m for m in sites.mutants() if m.operator in operators]
    if limit:
        mutants = mutants[:limit]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="rcucheck-mutants-") as tmp:
        jobs = []
        for i, m in enumerate(mutants):
            path = Path(tmp) / f"{i}_{src.name}"
            path.write_text(m.text)
            jobs.append(Job(str(path), (*cmd.args, "-iquote", str(src.parent)), str(src)))
        chunk = max(2 * session.workers, 2)
        pairs = ((m, out) for i in range(0, len(jobs), chunk)
                 for m, out in zip(mutants[i:i + chunk], session.lower(jobs[i:i + chunk]),
                                   strict=True))
        for m, out in pairs:
            if out.lowered is None:
                outcomes.append(Outcome(m, False, error=out.error))
                continue
            new = [f for f in scan_alone(session, out.lowered) if f.fingerprint not in base]
            hits = [f for f in new if f.rule in EXPECT[m.operator] and f.level != "note"]
            notes = [f for f in new if f.rule in EXPECT[m.operator] and f.level == "note"]
            outcomes.append(Outcome(m, bool(hits), sorted({f.rule for f in new}),
                                    not hits and bool(notes)))
            if verbose:
                print(f"  {rel}:{m.line} {m.operator} {'found' if hits else 'MISSED'}",
                      file=sys.stderr)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", required=True, help="configured kernel tree")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parse mutants N at once")
    ap.add_argument("--operators", default=",".join(OPERATORS),
                    help="comma-separated operators (default: all)")
    ap.add_argument("--limit", type=int, help="at most N mutants per file")
    ap.add_argument("--derive-flags", action="store_true",
                    help="files missing from the compile database: derive their flags")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per mutant")
    ap.add_argument("--misses", action="store_true", help="list every missed mutant")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args(argv)
    try:
        tree = KernelTree.open(args.tree)
        tree.derive = args.derive_flags
        clangsetup.load()
        operators = [o for o in args.operators.split(",") if o]
        bad = [o for o in operators if o not in EXPECT]
        if bad:
            raise InputError(f"unknown operator {bad[0]} (one of {', '.join(OPERATORS)})")
        session = Session(ApiModel.load(), checker_classes(), workers=args.jobs,
                          rel=tree.relative)
        t0 = time.perf_counter()
        results: dict[str, list[Outcome]] = {}
        for rel in args.files:
            results[rel] = run_file(tree, rel, session, operators, args.limit, args.verbose)
    except InputError as exc:
        print(f"mutants: {exc}", file=sys.stderr)
        return 2
    report(results, operators, args.misses, time.perf_counter() - t0)
    return 0


def report(results: dict[str, list[Outcome]], operators: list[str], misses: bool,
           seconds: float) -> None:
    per_op: dict[str, list[Outcome]] = defaultdict(list)
    for outs in results.values():
        for o in outs:
            per_op[o.mutant.operator].append(o)
    files = list(results)
    print(f"{'operator':12} " + " ".join(f"{Path(f).name[:14]:>14}" for f in files) +
          f" {'all':>12}")
    total_found = total = 0
    for op in operators:
        cells = []
        for f in files:
            outs = [o for o in results[f] if o.mutant.operator == op]
            found = sum(o.found for o in outs)
            cells.append(f"{found}/{len(outs)}" if outs else "-")
        outs = per_op.get(op, [])
        found = sum(o.found for o in outs)
        total_found += found
        total += len(outs)
        pct = f"{100 * found / len(outs):.0f}%" if outs else "-"
        print(f"{op:12} " + " ".join(f"{c:>14}" for c in cells) + f" {found}/{len(outs)} {pct:>4}")
    print(f"{'all':12} {total_found}/{total} "
          f"{(100 * total_found / total if total else 0):.1f}% in {seconds:.0f} s")
    missed = [(f, o) for f, outs in results.items() for o in outs if not o.found]
    if missed and misses:
        print("\nmissed:")
        for f, o in missed:
            m = o.mutant
            why = f" [{o.error}]" if o.error else (" (note only)" if o.notes_only else "")
            other = f" reported: {', '.join(o.rules)}" if o.rules else ""
            print(f"  {f}:{m.line} {m.function}() {m.operator}: {m.what}{why}{other}")


if __name__ == "__main__":
    sys.exit(main())
