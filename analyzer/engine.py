"""The path-sensitive forward dataflow over a function's CFG.

A worklist visits (block, state) pairs.  Each block keeps up to `bound` distinct
states; past that, arriving states are joined into one merged state (nesting
depths that disagree become unknown), so a 500-line function cannot explode and
loops reach a fixpoint.  Branches on known flag values, on the result of a
trylock-style call, and on values derived from it prune or refine the state.

The engine updates the state; checkers only observe it, through hooks called
before each event's effect is applied.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from analyzer import lifetimes
from analyzer.findings import Finding
from analyzer.gfp import gfp_may_sleep
from analyzer.ir import Assign, Call, Cond, Dead, Deref, Function, Loc, RcuAccess, Return, Walk
from analyzer.model import VANILLA, ApiModel, FnModel
from analyzer.state import CAP, UNKNOWN, State, flavour_key, join, replace

DEFAULT_BOUND = 8
# put_pid(), fput(), dput(), kobject_put(), sock_put(), put_task_stack() ...
_PUT_NAME = re.compile(r"put_\w+|\w+_put|[a-z]put|\w+_unref")
# ... but not the stores and CPU/user-access helpers that share the word
_NOT_PUT = re.compile(r"_*(put_user\w*|put_unaligned\w*|put_cpu\w*|put_online_cpus|"
                      r"put_bits\w*|put_le\d*|put_be\d*|put_char|put_str|put_seq\w*|"
                      r"put_dec\w*|put_hex\w*)")


@dataclass
class CallSite:
    """A call and the state it was made in, for the call graph's edges."""

    callee: str | None
    loc: Loc
    rcu_held: bool
    refs: tuple[str, ...]


@dataclass
class RunFacts:
    """What a run observed that a summary of the function needs."""

    sleeps: list[tuple[Loc, str, tuple]] = field(default_factory=list)
    # sleeps that are fatal in softirq context too (not vfree-style "process" ones)
    hard_sleeps: list[tuple[Loc, str, tuple]] = field(default_factory=list)
    # sleeps made after releasing (and before re-taking) the caller's RCU section
    sleeps_after_release: list[Loc] = field(default_factory=list)
    # lock-ownership assertions other than RCU's (`lockdep_rtnl_is_held()`): alternatives
    other_asserts: bool = False
    rcu_uses: list[tuple[str, bool, Loc, str]] = field(default_factory=list)
    returns: list[tuple[bool, bool, bool]] = field(default_factory=list)
    param_puts: set[int] = field(default_factory=set)
    frees: set[int] = field(default_factory=set)
    defers: set[int] = field(default_factory=set)
    calls: list[CallSite] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    asserts: list[tuple[str, Loc, str]] = field(default_factory=list)
    returned_trygets: set[int] = field(default_factory=set)


@dataclass
class FunctionResult:
    function: Function
    findings: list[Finding]
    exit_states: list[State]
    steps: int
    facts: RunFacts = field(default_factory=RunFacts)


class FunctionRun:
    """One function through the engine, with one instance of each checker."""

    def __init__(self, fn: Function, model: ApiModel, checker_classes, bound: int = DEFAULT_BOUND,
                 lookup=None):
        self.fn = fn
        self.model = model
        self.lookup = lookup  # name -> summary-derived FnModel, for callees with bodies
        self.facts = RunFacts()
        self.bound = bound
        self.findings: dict[tuple, Finding] = {}
        self.checkers = [cls(self) for cls in checker_classes]
        self.exit_states: list[State] = []
        self.steps = 0
        self.calls: dict[str, tuple[Call, FnModel | None]] = {}
        # RCU loads by temporary: the published location each one read
        self.sources: dict[str, str] = {}

    # --- model lookups used by the engine and by checkers ----------------------------------
    def callee_model(self, ev: Call) -> FnModel | None:
        """The model's entry; failing that, what the callee's body showed."""
        return self.model_for(ev.callee) if ev.callee else None

    def call_may_sleep(self, ev: Call, fm: FnModel | None) -> bool:
        if fm is None or not fm.sleeps:
            return False
        if fm.sleeps == "gfp":
            if fm.gfp is None or fm.gfp >= len(ev.arg_text):
                return False
            return gfp_may_sleep(ev.arg_text[fm.gfp]) is True
        return True

    def model_for(self, name: str) -> FnModel | None:
        """The model's entry, a summary of the callee's body, or the kernel's naming.

        A function with neither (defined in a file not analysed) whose name follows
        the kernel's put convention (`put_pid`, `fput`, `kobject_put`) is taken to drop
        a reference on its first argument; anything else stays unknown.
        """
        fm = self.model.fn(name)
        if fm is None and self.lookup is not None:
            fm = self.lookup(name)
        if (fm is None or (fm.inferred and fm.put is None)) and \
                _PUT_NAME.fullmatch(name) and not _NOT_PUT.fullmatch(name):
            # a put whose body shows no put we know (percpu_ref_put_many() two calls down)
            fm = FnModel(name, put=0, inferred=True) if fm is None else replace(fm, put=0)
        return fm

    def handle_of(self, ev: Call, fm: FnModel) -> str | None:
        if fm.handle is not None and fm.handle < len(ev.args):
            return ev.args[fm.handle].text
        return None

    # --- reporting ------------------------------------------------------------------------
    def report(self, rule, loc: Loc, message: str, state: State | None = None,
               notes: list[tuple[Loc, str]] | None = None, level: str | None = None,
               confidence: str = "high", key: str = "") -> None:
        trail = list(state.trail) if state is not None else []
        all_notes = [n for n in trail if n[0] != loc] + list(notes or [])
        dkey = (rule.id, loc, message)
        if dkey in self.findings:
            return
        self.findings[dkey] = Finding(rule.id, level or rule.level, loc, message, self.fn.name,
                                      all_notes, confidence, key)

    # --- the walk -------------------------------------------------------------------------
    def run(self) -> FunctionResult:
        fn = self.fn
        seen: dict[int, dict] = {}
        merged: dict[int, State] = {}
        work: deque[tuple[int, State]] = deque()

        def arrive(block: int, st: State) -> None:
            states = seen.setdefault(block, {})
            k = st.key()
            if k in states:
                return
            if len(states) < self.bound:
                states[k] = st
                work.append((block, st))
                return
            acc = merged.get(block)
            new = join(acc, st) if acc is not None else st
            if acc is not None and new.key() == acc.key():
                return
            merged[block] = new
            for ck in self.checkers:
                ck.on_merge(block, new)
            work.append((block, new))

        arrive(fn.entry, State())
        while work:
            bid, st = work.popleft()
            self.steps += 1
            block = fn.blocks[bid]
            for ev in block.events:
                st = self.transfer(st, ev)
            if bid == fn.exit:
                self.exit_states.append(st)
                for ck in self.checkers:
                    ck.on_exit(st)
                continue
            for succ, outcome in block.succs:
                nst = st if outcome is None else self.refine(st, block.cond, outcome)
                if nst is not None:
                    arrive(succ, nst)
        for ck in self.checkers:
            ck.on_end(self.exit_states)
        findings = sorted(self.findings.values(), key=Finding.sort_key)
        return FunctionResult(fn, findings, self.exit_states, self.steps, self.facts)

    # --- transfer functions -----------------------------------------------------------------
    def transfer(self, st: State, ev) -> State:
        if isinstance(ev, Call):
            return self.call(st, ev)
        if isinstance(ev, Assign):
            for ck in self.checkers:
                ck.on_assign(st, ev)
            st = self.assign(st, ev)
            return lifetimes.on_assign(st, ev, self.calls, self.sources, in_section(st))
        if isinstance(ev, Deref):
            for ck in self.checkers:
                ck.on_deref(st, ev)
            return st
        if isinstance(ev, RcuAccess):
            am = self.model.access.get(ev.macro)
            self.sources[ev.result] = ev.ptr.text
            if am is not None and am.needs != "none" and not (
                    am.cond is not None and len(ev.args) > am.cond
                    and ev.args[am.cond].strip() not in ("0", "false")):
                self.facts.rcu_uses.append((am.needs, st.holds(am.needs) is not False, ev.loc,
                                            f"{ev.macro}({ev.args[0] if ev.args else ''})"))
            for ck in self.checkers:
                ck.on_access(st, ev, am)
            return st
        if isinstance(ev, Walk):
            wm = self.model.walks.get(ev.macro)
            if wm is not None and not ev.step and wm.needs != "none" and not (
                    wm.cond is not None and len(ev.args) > wm.cond):
                self.facts.rcu_uses.append((wm.needs, st.holds(wm.needs) is not False, ev.loc,
                                            f"{ev.macro}()"))
            for ck in self.checkers:
                ck.on_walk(st, ev, wm)
            stated = wm is not None and wm.cond is not None and len(ev.args) > wm.cond
            return lifetimes.on_walk(st, ev, in_section(st), stated)
        if isinstance(ev, Dead):
            for ck in self.checkers:
                ck.on_dead(st, ev)
            return lifetimes.on_dead(st, ev.names)
        if isinstance(ev, Return):
            for ck in self.checkers:
                ck.on_return(st, ev)
            value = ev.value
            ret = None
            if value is not None:
                ret = value.const if value.const is not None else st.const(value.text)
                k = lifetimes.value_key(st, value)
                p = st.ptr(value.text) if value.kind == "var" else None
                # `return refcount_inc_not_zero(&obj->ref);`: the caller's branch decides
                key = value.tmp if value.kind == "call" else value.text
                for pk, kind, obj in st.pending:
                    if pk == key and kind.lstrip("~") == "ref" and obj in self.fn.params:
                        self.facts.returned_trygets.add(self.fn.params.index(obj))
                self.facts.returns.append((
                    value.is_null or ret == 0,
                    (k is not None and st.refcount(k) > 0) or k in self.model.immortal,
                    value.kind == "rcu" or (p is not None and p[0] == "rcu" and not p[1])))
            return lifetimes.on_return(replace(st, ret=ret), value, ev.loc)
        return st

    def call(self, st: State, ev: Call) -> State:
        fm = self.callee_model(ev)
        self.calls[ev.result] = (ev, fm)
        self.observe_call(st, ev, fm)
        for ck in self.checkers:
            ck.on_call(st, ev, fm)
        if fm is None:
            return st
        if fm.assume is not None:
            st = replace(st, consts=st.consts | {(ev.result, fm.assume)})
        if fm.asserts:
            st = replace(st, assumed=st.assumed | {fm.asserts})
        if fm.enter:
            fkey = flavour_key(fm.enter, self.handle_of(ev, fm))
            if fm.enter_if == "true":
                st = replace(st, pending=st.pending | {(ev.result, "enter", fkey)})
            else:
                st = self.enter(st, fkey, ev)
        if fm.exit:
            fkey = flavour_key(fm.exit, self.handle_of(ev, fm))
            st = self.leave(st, fkey, ev)
        return lifetimes.on_call(st, ev, fm, in_section(st))

    def observe_call(self, st: State, ev: Call, fm: FnModel | None) -> None:
        facts = self.facts
        facts.calls.append(CallSite(ev.callee, ev.loc, in_section(st),
                                    tuple(k for k, n in st.refs if n > 0)))
        if ev.callee and "is_held" in ev.callee and not (fm and fm.asserts):
            facts.other_asserts = True
        if fm is None:
            if ev.callee:
                facts.unknown.add(ev.callee)
            return
        if fm.asserts:
            facts.asserts.append((fm.asserts, ev.loc, f"{ev.callee}()"))
        if self.call_may_sleep(ev, fm):
            where = f"{ev.loc.file.rsplit('/', 1)[-1]}:{ev.loc.line}"
            step = (ev.loc, f"{ev.callee or '?'}() at {where}", fm.why)
            facts.sleeps.append(step)
            if fm.sleeps != "process":
                facts.hard_sleeps.append(step)
            if (st.borrowed & set(VANILLA) and st.vanilla_depth() == 0) or \
                    fm.sleeps_outside_caller_rcu:
                facts.sleeps_after_release.append(ev.loc)
        if fm.requires:
            facts.rcu_uses.append((fm.requires, st.holds(fm.requires) is not False, ev.loc,
                                   f"{ev.callee}()"))
        for index, bucket in ((fm.put, facts.param_puts), (fm.frees, facts.frees),
                              (fm.defers_free, facts.defers)):
            if index is None or index >= len(ev.args):
                continue
            k = lifetimes.obj_key(st, ev.args[index])
            if k in self.fn.params and (bucket is not facts.param_puts or st.refcount(k) == 0):
                bucket.add(self.fn.params.index(k))

    @staticmethod
    def open_section(st: State, fkey: str, loc: Loc) -> State:
        """One more level of `fkey`; a vanilla section re-protects what references kept."""
        if fkey in VANILLA and st.vanilla_depth() == 0:
            st = lifetimes.on_section_opened(st)
        d = st.depth(fkey)
        if d != UNKNOWN:
            st = st.with_depth(fkey, min(d + 1, CAP))
        if d == 0:
            st = st.with_origin(fkey, loc)
            if not any(dd > 0 for _, dd in st.held if _ != fkey):
                st = replace(st, enter_truths=st.truths)
        return replace(st, entered=st.entered | {fkey})

    def enter(self, st: State, fkey: str, ev: Call) -> State:
        st = self.open_section(st, fkey, ev.loc)
        for ck in self.checkers:
            ck.on_section_enter(st, ev, fkey)
        return st.note(ev.loc, f"{_what(ev)} enters the {_flavour_name(fkey)} read-side section")

    def leave(self, st: State, fkey: str, ev: Call) -> State:
        for ck in self.checkers:
            ck.on_section_exit(st, ev, fkey)
        target = fkey
        if st.depth(fkey) == 0:
            target = self.mismatched(st, fkey) or fkey
        d = st.depth(target)
        if d == 0 and target == fkey and fkey not in st.entered:
            st = replace(st, borrowed=st.borrowed | {fkey})
        if d == UNKNOWN or d == 0:
            return st.note(ev.loc, f"{_what(ev)} leaves the {_flavour_name(fkey)} section")
        st = st.with_depth(target, d - 1)
        if d - 1 == 0:
            st = st.with_origin(target, None)
            if target in VANILLA and st.vanilla_depth() == 0:
                st = lifetimes.on_section_closed(st, ev.loc)
        return st.note(ev.loc, f"{_what(ev)} leaves the {_flavour_name(target)} section")

    @staticmethod
    def mismatched(st: State, fkey: str) -> str | None:
        """The held flavour an unlock of the wrong flavour is closing, if any."""
        if fkey.startswith("srcu"):
            held = [k for k, d in st.held if k.startswith("srcu") and d != 0]
        elif fkey in VANILLA and fkey != "implicit":
            held = [k for k, d in st.held if k in VANILLA and k != "implicit" and d != 0]
        else:
            held = []
        return held[-1] if len(held) == 1 else None

    def assign(self, st: State, ev: Assign) -> State:
        target = ev.target
        if target.kind != "var":
            stale = {t for t in st.truths if t[0] == target.text
                     or t[0].startswith((target.text + "->", target.text + "."))}
            return replace(st, truths=st.truths - stale) if stale else st
        name = target.text
        st = st.forget(name)
        value = ev.value
        if value.const is not None:
            st = replace(st, consts=st.consts | {(name, value.const)})
        src = value.tmp or (value.text if value.kind == "var" else None)
        if src is not None:
            extra = {(name, _invert(kind) if value.neg else kind, f)
                     for (k, kind, f) in st.pending if k == src}
            if extra:
                st = replace(st, pending=st.pending | extra)
            c = st.const(src) if value.kind == "var" else None
            if c is not None:
                st = replace(st, consts=st.consts | {(name, int(not c) if value.neg else c)})
        return st

    def refine(self, st: State, cond: Cond | None, outcome: bool) -> State | None:
        if cond is None:
            return st
        st = st.note(cond.loc, f"taking the {'true' if outcome else 'false'} branch of "
                               f"`{_short(cond.text)}`")
        subj = cond.subject
        if subj.neg:
            subj = replace(subj, neg=False)
            outcome = not outcome
        st = lifetimes.on_branch(st, subj, outcome, cond.loc, cond.text)
        key = subj.tmp if subj.kind == "call" else subj.text
        if subj.kind == "call" and key is not None:
            c = st.const(key)
            if c is not None and bool(c) != outcome:
                return None  # a call the model says returns a known value
        if subj.kind in ("var", "field", "other") and key != "?":
            # a location tested again with no write in between gives the same answer
            c = st.const(key) if subj.kind == "var" else None
            if c is not None and bool(c) != outcome:
                return None
            known = st.truth(key)
            if known is not None and known != outcome:
                return None
            if known is None and c is None:
                st = replace(st, truths=st.truths | {(key, outcome)})
                if not outcome and subj.kind == "var":
                    st = replace(st, consts=st.consts | {(key, 0)})  # false means 0/NULL
        effects = [p for p in st.pending if p[0] == key and p[1].lstrip("~") == "enter"]
        if effects:
            st = replace(st, pending=st.pending - set(effects))
            for _, kind, fkey in effects:
                if outcome == kind.startswith("~"):
                    continue
                st = self.open_section(st, fkey, cond.loc)
                st = st.note(cond.loc, f"the {_flavour_name(fkey)} section is held on this "
                                       "branch")
        return st


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _invert(kind: str) -> str:
    """A pending effect copied through `!`: it now happens when the value is false."""
    return kind[1:] if kind.startswith("~") else "~" + kind


def in_section(st: State) -> bool:
    """Inside some vanilla read-side section (or asserted to be)."""
    return st.vanilla_depth() > 0 or bool(st.assumed & set(VANILLA))


def _what(ev: Call) -> str:
    return f"{ev.callee}()" if ev.callee else "the call"


def _flavour_name(fkey: str) -> str:
    names = {"rcu": "RCU", "rcu_bh": "RCU-bh", "rcu_sched": "RCU-sched",
             "rcu_trace": "RCU Tasks Trace", "implicit": "implicit (non-preemptible)"}
    if fkey.startswith("srcu:"):
        return f"SRCU ({fkey[5:]})"
    return names.get(fkey, fkey)


flavour_name = _flavour_name
