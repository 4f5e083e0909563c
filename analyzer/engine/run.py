"""The path-sensitive forward dataflow over one function's CFG.

A worklist visits (block, state) pairs.  Each block keeps up to `bound` distinct
states; past that, arriving states are joined into one merged state (nesting
depths that disagree become unknown), so a 500-line function cannot explode and
loops reach a fixpoint.  Branches on known flag values, on the result of a
trylock-style call, and on values derived from it prune or refine the state.

The engine updates the shared state (sections, values, references); subscribers
(checkers and observers, `engine.hooks`) see each event first and keep their own
facts in their slots.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from analyzer.engine import beliefs, counters, lifetimes
from analyzer.engine.exceptions import ALL, exception
from analyzer.engine.hooks import Hooks, whole
from analyzer.engine.notes import path_notes
from analyzer.engine.sections import Flavours
from analyzer.engine.state import CAP, UNKNOWN, State, join, replace
from analyzer.ir import (
    Assign,
    Call,
    Cond,
    Dead,
    Deref,
    Finding,
    Function,
    Loc,
    PlainAccess,
    RcuAccess,
    Return,
    Val,
    Walk,
    evaluate,
)
from analyzer.model import ApiModel, FnModel
from analyzer.model.gfp import gfp_may_sleep

# the operator of a condition that the argument points to memory others can see (not
# an object its caller allocated and has not published yet)
PUBLISHED = "published"

# distinct states kept per block before the paths reaching it are joined
DEFAULT_BOUND = 8
# joined states kept apart per block, past the bound (one more takes the rest)
MERGE_PARTS = 8


COUNTED_UP = exception(
    "rcu-sleep-in-reader.counted-up", "rcu-sleep-in-reader",
    "an unsigned counter just incremented is taken as non-zero",
    """A nesting counter in a structure (`out->atomic++` before rcu_read_lock(), undone
    after rcu_read_unlock()) is how bcachefs's printbufs and similar buffers learn that
    their user is atomic; the helpers pick GFP_NOWAIT while it is non-zero.  The
    analysis does not know the counter's value before the increment, so it assumes the
    increment does not wrap an unsigned counter to zero (255 nested sections of a
    `u8`).  A counter set to zero, or never raised, still leaves the sleep to the
    mode's other arm and is reported.""",
    "rcu_sleep_in_reader_modes.c:jbuf_dump_nested",
    "rcu_sleep_in_reader_modes.c:jbuf_dump_reset",
    attributed=False)


def _unresolved(name: str) -> str | None:
    return None


@dataclass
class RunContext:
    """What the interprocedural layer knows about the function being run."""

    # some analysed function calls it: a requirement on callers is checked at their calls
    has_callers: bool = False
    # the function's node in the call graph, and the node a call by name reaches
    node: str = ""
    resolve: Callable[[str], str | None] = _unresolved
    # what another analysed function's own code shows of a callee's result: that it
    # releases one (`beliefs.Belief`), or None
    released_elsewhere: Callable[[str], beliefs.Belief | None] = lambda name: None
    # the counters the run's puts show to be reference counts: (owner type, path)
    refcounts: frozenset[tuple[str, str]] = frozenset()


@dataclass
class FunctionResult:
    function: Function
    findings: list[Finding]
    exit_states: list[State]
    steps: int
    subscribers: list[Hooks] = field(default_factory=list)
    # facts subscribers emitted for their rules' program-wide `resolve`: (rule id, fact)
    facts: list[tuple[str, tuple]] = field(default_factory=list)
    partial: str | None = None  # the budget stopped the run: why

    def subscriber(self, cls):
        return next((s for s in self.subscribers if isinstance(s, cls)), None)


@dataclass(frozen=True)
class Budget:
    """How much work one function may take: block visits and seconds.

    The defaults leave every function of mm/ (and of kernel/cgroup, net/core/dev.c,
    fs/namei.c, kernel/sched/fair.c) untouched: the costliest takes 3,306 steps and
    0.7 s.  Past either limit, the paths still open are joined per block and the walk
    finishes in program order; findings stay, and the run says it was analysed only
    partly.
    """

    steps: int = 50_000
    seconds: float = 5.0
    # registered exceptions turned off (`--disable-exception`; "all" for every one)
    disabled: frozenset[str] = frozenset()


class FunctionRun:
    """One function through the engine, with one instance of each subscriber."""

    def __init__(self, fn: Function, model: ApiModel, subscribers, bound: int = DEFAULT_BOUND,
                 lookup=None, context: RunContext | None = None,
                 flavours: Flavours | None = None, budget: Budget | None = None):
        self.fn = fn
        self.model = model
        self.flavours = (flavours or Flavours(model)).entered_with(
            f for kind, f in fn.annotations if kind in ("must_hold", "releases"))
        self.lookup = lookup  # name -> summary-derived FnModel, for callees with bodies
        self.context = context or RunContext()
        self.bound = bound
        self.budget = budget or Budget()
        self.partial: str | None = None  # why the run stopped early, if it did
        self.findings: dict[tuple, Finding] = {}
        self.first_of: dict[tuple, int] = {}  # see `report`
        # a turned-off exception whose case held, in the hook running now: the finding the
        # hook goes on to make is one that exception would have silenced (see `allows`)
        self.waived: str | None = None
        self.facts: list[tuple[str, tuple]] = []
        self.exit_states: list[State] = []
        self.steps = 0
        # call results by temporary: what a later assignment of the result came from
        self.calls: dict[str, tuple[Call, FnModel | None]] = {}
        # the analysed helper behind each trylock-style result (by temporary or variable)
        self.pending_openers: dict[str, str | None] = {}
        # locals loaded only from one parameter's fields, and the objects callers'
        # handles designate here (`of->kn⟨->priv⟩` is what `cgrp` holds)
        self.handles = lifetimes.param_handles(fn)
        self.handle_objs: dict[str, str] = {}
        # the structure of each tested condition (`mask & MAY_NOT_BLOCK`), by its key,
        # and the parameters the function never assigns (tests of them test the argument)
        self.cond_ops: dict[str, tuple] = {}
        # the named constants each tested value's condition names (`LOOKUP_RCU`)
        self.cond_named: dict[str, tuple[str, ...]] = {}
        # tests that choose between constants (`!out->atomic ? GFP_KERNEL : GFP_NOWAIT`):
        # a mode the caller sets, whatever the tested value's type
        self.cond_modes: set[str] = set()
        # structure copies seen (`*msg = uwq->msg`): (destination prefix, source prefix)
        self.struct_copies: set[tuple[str, str]] = set()
        # what is written to each parameter that is assigned (see `param_of`)
        self.param_writes: dict[str, list[Val]] = {}
        for b in fn.blocks:
            for ev in b.events:
                if isinstance(ev, Assign) and ev.target.kind == "var" and \
                        ev.target.text in fn.params:
                    self.param_writes.setdefault(ev.target.text, []).append(ev.value)
        self.stable_params = [p for p in fn.params if p not in self.param_writes]
        # the function's own variables (they go out of scope): a structure among them
        # is on its stack
        self.locals = frozenset(n for b in fn.blocks for ev in b.events
                                if isinstance(ev, Dead) for n in ev.names)
        # (variable, field) for each `var = p->field` load (see `refine`)
        self.field_loads = frozenset((ev.target.text, ev.value.text) for b in fn.blocks
                                     for ev in b.events if isinstance(ev, Assign)
                                     and ev.target.kind == "var" and ev.value.kind == "field")
        # callees whose results this function releases on some path: references it owns
        self.beliefs = beliefs.owned_results(
            fn, self.model_for, self.puts_inside,
            model.names_a_get if self.enabled(beliefs.PAIRED_GET) else None,
            self.enabled(beliefs.COMPARED))
        # ... or that another analysed function releases (callers of one callee share
        # its contract: `dev = get_dev_from_fwnode(h); ... put_device(dev);` elsewhere
        # in the file says what every call of it returns)
        for b in fn.blocks:
            for ev in b.events:
                if isinstance(ev, Call) and ev.callee and ev.callee not in self.beliefs:
                    got = self.context.released_elsewhere(ev.callee)
                    if got is not None and beliefs.says_nothing(self.model_for(ev.callee,
                                                                               False)):
                        self.beliefs[ev.callee] = got
        # calls after which the function still releases what it gave them: (call
        # result, variable); they consumed nothing
        self.kept_after = beliefs.kept_after(fn, self.model_for, self.puts_inside) \
            if self.beliefs else set()
        # structures on the stack that keep what is linked into them: those whose address
        # no other call is given (`list_add(&w->list, &dispose); ... dispose_list(&dispose);`
        # hands the list, and what it holds, to the call that empties it)
        self.holders = self.locals - self.given_on(fn)
        # calls that change the reference count of the object a counter is reached from
        self.counted = {u.result: u for u in counters.uses(fn, model)
                        if u.counter in self.context.refcounts} \
            if self.context.refcounts else {}
        self.subscribers: list[Hooks] = [cls(self) for cls in subscribers]
        slots = []
        for sub in self.subscribers:
            if sub.slot is not None:
                sub.slot_index = len(slots)
                slots.append(sub.slot)
        self.slot_joins = tuple(s.join for s in slots)
        keys = tuple(s.key for s in slots)
        # slots that count whole need no key function call per state
        self.slot_keys = None if all(k is whole for k in keys) else keys
        self.initial = State(slots=tuple(s.initial for s in slots))
        self.on: dict[str, list] = {}
        for sub in self.subscribers:
            for hook in sub.subscribed():
                self.on.setdefault(hook, []).append(getattr(sub, hook))

    def given_on(self, fn: Function) -> set[str]:
        """Locals whose address (or a member's) some call is given other than as the
        structure it links an object into."""
        out: set[str] = set()
        for b in fn.blocks:
            for ev in b.events:
                if not isinstance(ev, Call) or not ev.callee:
                    continue
                fm = self.model_for(ev.callee, ev.not_a_put)
                out |= {a.root for i, a in enumerate(ev.args)
                        if lifetimes.local_structure(a, self.locals) and
                        not (fm is not None and fm.into == i)}
        return out

    def allows(self, exc) -> bool:
        """Does the registered exception `exc` apply in this run (not turned off)?  When
        it is off, the finding the running hook goes on to make names it (`waived`)."""
        if self.enabled(exc):
            return True
        self.waived = exc.id
        return False

    def enabled(self, exc) -> bool:
        """Is `exc` on?  (As a setting of a whole function's analysis, the engine's
        exceptions ask only this: their findings cannot name them.)"""
        off = self.budget.disabled
        return not off or (exc.id not in off and ALL not in off)

    def take_waived(self) -> str | None:
        """The turned-off exception whose case held since the hook began (a checker that
        reports later keeps it with the finding-to-be), cleared."""
        waived, self.waived = self.waived, None
        return waived

    # --- model lookups used by the engine and by checkers ----------------------------------
    def callee_model(self, ev: Call, st: State | None = None) -> FnModel | None:
        """The model's entry; failing that, what the callee's body showed, for this call's
        arguments (a requirement or sleep they rule out is gone, a count of references
        other than one is not counted)."""
        fm = self.model_for(ev.callee, ev.not_a_put) if ev.callee else None
        if fm is None and ev.declared:
            fm = self.declared_model(ev)
        if fm is None and st is not None and self.puts_inside(ev):
            k = lifetimes.obj_key(st, ev.args[0])
            if k is not None and st.refcount(k) > 0:
                fm = FnModel(ev.callee, put=0, inferred=True)
        if ev.callee in self.beliefs:
            fm = FnModel(ev.callee, returns_ref=True, inferred=True) if fm is None else \
                replace(fm, returns_ref=True)
        if fm is not None and fm.frees is not None and fm.cache is not None and \
                fm.cache < len(ev.args) and ev.args[fm.cache].text in self.fn.typesafe_caches:
            # back to a SLAB_TYPESAFE_BY_RCU cache: still an object of its type to readers
            fm = replace(fm, frees=None)
        if fm is not None and fm.count is not None and fm.count < len(ev.args) and \
                ev.args[fm.count].const != 1 and \
                ev.args[fm.count].text not in self.fn.params:
            # several references at once (`refcount_add(burst, &skb->users)`): they are
            # handed out or dropped one by one where the count says, not counted here
            # (a count the caller passes is the caller's to say: `wb_put_many(wb, nr)`)
            fm = replace(fm, get=None, put=None, tryget=None, count=None)
        if fm is None or not (fm.requires_when or fm.sleeps_when):
            return fm
        changes: dict = {}
        if fm.requires and fm.requires_when:
            c = self.at_call(fm.requires_when, ev, st)
            changes.update(requires=None, requires_when=()) if c is None else \
                changes.update(requires_when=c)
        if fm.sleeps and fm.sleeps_when:
            c = self.at_call(fm.sleeps_when, ev, st)
            changes.update(sleeps=False, sleeps_when=()) if c is None else \
                changes.update(sleeps_when=c)
        return replace(fm, **changes)

    def at_call(self, conjs: tuple, ev: Call, st: State | None = None) -> tuple | None:
        """A callee's conditions with this call's arguments: None when every one is ruled
        out, () when one certainly holds, else what remains (on this function's
        parameters, or unknown: index -1).  A condition on an argument's flag bits is
        also decided by what this path tested of them (`!(file->f_mode & (FMODE_BACKING
        | FMODE_OPENED))` before `file_free(file)` rules out its FMODE_BACKING branch)."""
        out = []
        for conj in conjs:
            left: set = set()
            dead = False
            for i, path, op, c, v in conj:
                a = ev.args[i] if 0 <= i < len(ev.args) else None
                r = None
                if op == PUBLISHED:
                    # others can see what the argument points to, unless the caller
                    # allocated it and has not published it; what a parameter points to
                    # is for the caller's callers to say (`foo_init(t)` of a new `t`)
                    j = self.param_of(a)
                    if j is None and a is not None and a.root in self.stable_params:
                        j = self.fn.params.index(a.root)  # (`&t->cur`: in t's object)
                    if j is not None and i not in ev.fresh:
                        left.add((j, path, op, c, v))
                        continue
                    r = i not in ev.fresh
                elif a is not None and not path and a.const is not None:
                    r = evaluate((op, "", c), a.const)
                elif a is not None and st is not None and op == "&":
                    r = self.tested_bits(st, a.text + path, c)
                elif a is not None and st is not None and path and op == "!=" and c == 0:
                    r = st.truth(_member(a, path))  # (`out->atomic++` before the call)
                if r is not None:
                    if bool(r) != v:
                        dead = True
                        break
                    continue
                i = self.param_of(a, c if op == "&" and not path else None)
                left.add((-1 if i is None else i, path, op, c, v))
            if dead:
                continue
            if not left:
                return ()
            out.append(frozenset(left))
        return tuple(out) if out else None

    def param_of(self, a: Val | None, bits: int | None = None) -> int | None:
        """The parameter whose argument `a` still is, or (`bits`) whose argument's bits
        `bits` it still carries: a parameter never assigned; one assigned only by `|=`
        and `&=` of constants that leave those bits alone (`gfp_mask |=
        __GFP_MEMALLOC`); an expression of that kind (`flags | __GFP_NOWARN`, `gfp_mask &
        ~GFP_DMA`)."""
        if a is not None and bits is not None and a.kind == "other" and \
                a.op is not None and _keeps(a.op, bits):
            a = Val(a.op[1], "var", root=a.op[1])
        if a is None or a.kind != "var" or a.text not in self.fn.params:
            return None
        writes = self.param_writes.get(a.text, [])
        if writes and (bits is None or not all(
                w.op is not None and w.op[1] == a.text and _keeps(w.op, bits)
                for w in writes)):
            return None
        return self.fn.params.index(a.text)

    def tested_bits(self, st: State, where: str, bits: int) -> bool | None:
        """Is `where & bits` non-zero, by the flag tests this path made of `where`?"""
        for key, true in st.truths:
            op = self.cond_ops.get(key)
            if op is None or op[0] != "&" or op[1] != where:
                continue
            mask = op[2]
            if not true and bits & ~mask == 0:
                return False  # none of a mask that covers these bits is set
            if true and mask & ~bits == 0:
                return True  # some bit of a mask within these bits is set
        return None

    def param_condition(self, st: State) -> frozenset:
        """The modes of the arguments the branches taken on this path decided: (parameter
        index, field path, operator, constant, truth).

        Modes are what a caller passes to choose a behaviour: a bit of a flags or mask
        argument (`mask & MAY_NOT_BLOCK`), a boolean or integer flag argument (`wait`,
        `mode == SYNC`), a named flag bit of an argument's field (`nd->flags &
        LOOKUP_RCU`).  Data tests (a NULL pointer, `t->hook`, a counter `n <= 0`) are
        not: the effect counts on every path.
        """
        out = set()
        for key, v in st.truths:
            op = self.cond_ops.get(key)
            where, rel, c = (op[1], op[0], op[2]) if op else (key, "!=", 0)
            if rel not in ("&", "!=", "=="):
                continue
            for i, p in enumerate(self.fn.params):
                if p not in self.stable_params and not (
                        where == p and self.only_turned_off(p, (rel, p, c), v)):
                    continue
                pointer = i < len(self.fn.param_ptrs) and self.fn.param_ptrs[i]
                named = bool(self.cond_named.get(key))
                mode = key in self.cond_modes
                bit = rel == "&" and c > 0 and c & (c - 1) == 0
                if where == p and (not pointer or mode) and \
                        (rel == "&" or not op or named or mode):
                    path = ""
                elif where.startswith(p + "->") and "(" not in where and \
                        (bit or (named and rel == "&") or mode):
                    path = where[len(p):]
                else:
                    continue
                out.add((i, path, rel, c, v))
                break
        return frozenset(out)

    def only_turned_off(self, p: str, op: tuple, v: bool) -> bool:
        """Every write to parameter `p` stores a constant for which the test `op` comes
        out other than `v` (`if (timeout < 0) sleep_ok = false;`): where the test comes
        out `v`, the value is still the argument's."""
        writes = self.param_writes.get(p, [])
        return all(w.const is not None and bool(evaluate(op, w.const)) != v
                   for w in writes)

    def call_may_sleep(self, ev: Call, fm: FnModel | None, st: State | None = None) -> bool:
        """Certainly may sleep here (a sleep only under conditions left open is not)."""
        if fm is None or not fm.sleeps or fm.sleeps_when:
            return False
        if fm.sleeps == "gfp":
            if fm.gfp is None or fm.gfp >= len(ev.arg_text):
                return False
            blocks = ev.gfp_blocks
            mask = st.const(ev.args[fm.gfp].text) if st is not None and blocks is None \
                and ev.args[fm.gfp].kind == "var" else None
            if mask is not None and self.fn.gfp_bit is not None:
                blocks = bool(mask >> self.fn.gfp_bit & 1)  # (the mask this path chose)
            elif blocks is None and ev.args[fm.gfp].is_temporary:
                return False  # (a choice of masks that paths joined past: unknown)
            return gfp_may_sleep(self.model.gfp, ev.arg_text[fm.gfp], blocks) is True
        return True

    def declared_model(self, ev: Call) -> FnModel | None:
        """What a callee's sparse annotations say it does to its caller's sections
        (`__acquires(RCU)`: returns holding it; `__releases(RCU)`: leaves the caller's;
        `__must_hold(RCU)`: needs it held), for a callee nothing else describes."""
        fx: dict = {}
        for kind, flavour in ev.declared:
            fam, _, path = flavour.partition(":")
            if path:
                continue  # (an srcu_struct the callee reaches: not its caller's name)
            if kind == "acquires":
                fx.setdefault("enter", fam)
            elif kind == "cond_acquires":
                fx.setdefault("enter", fam)
                fx.setdefault("enter_if", "true")
            elif kind == "releases":
                fx.setdefault("exit", fam)
            elif kind == "must_hold":
                fx.setdefault("requires", fam)
        return FnModel(ev.callee, inferred=True, **fx) if fx else None

    def puts_inside(self, ev: Call) -> bool:
        """`nfs_put_client(clp)`: named a put by the verb inside its name, given one
        argument, and not a data writer by its prototype (`naming.put_infix`)."""
        return bool(ev.callee) and len(ev.args) == 1 and not ev.not_a_put and \
            self.model.names_a_put_inside(ev.callee)

    def model_for(self, name: str, not_a_put: bool = False) -> FnModel | None:
        """The model's entry, a summary of the callee's body, or the kernel's naming.

        A function with neither (defined in a file not analysed) whose name follows
        the kernel's put convention (`put_pid`, `fput`, `kobject_put`) is taken to drop
        a reference on its first argument; anything else stays unknown.  A body that
        puts something else instead (`put_aio_ring_file()` puts a file its argument
        points to) is believed over the name, and so is a prototype shaped like a data
        writer's (`nlmsg_put(skb, ...)`: `not_a_put`).  A body of one parameter that
        shows no put at all says nothing against the name: it counts with what the
        analysis cannot see, a counter API the model does not know (`dput()`'s lockref)
        or a callee nothing is known of (`fwnode_handle_put()` calls
        `fwnode->ops->put(fwnode)`).
        """
        fm = self.model.fn(name)
        if fm is None and self.lookup is not None:
            fm = self.lookup(name)
        if not_a_put or not self.model.names_a_put(name):
            return fm
        if fm is None:
            fm = FnModel(name, put=0, inferred=True)
        elif fm.inferred and fm.put is None and not fm.puts_handles and \
                len(fm.param_types) == 1:
            # (with more parameters the name does not say which one it puts:
            # `tfilter_put(tp, fh)` puts `fh` through `tp->ops->put(tp, fh)`)
            fm = replace(fm, put=0)
        return fm

    def handle_of(self, ev: Call, fm: FnModel) -> str | None:
        if fm.handle is not None and fm.handle < len(ev.args):
            base = ev.args[fm.handle].text
            if fm.handle_path:
                # `&obj` given for `->srcu` is `obj.srcu`
                base = base.replace(" ", "")
                if base.startswith("&") and fm.handle_path.startswith("->"):
                    return f"{base[1:]}.{fm.handle_path[2:]}"
                return f"{base}{fm.handle_path}"
            return base
        return None

    def in_section(self, st: State) -> bool:
        return self.flavours.in_section(st)

    # --- reporting ------------------------------------------------------------------------
    def report(self, rule, loc: Loc, message: str, state: State | None = None,
               notes: list[tuple[Loc, str]] | None = None, level: str | None = None,
               confidence: str = "high", conditions: tuple = (), *, obj: str | None,
               first: int = 0, demote=None) -> None:
        """One finding per rule, place and object (`obj`: the variable, access path or
        section it is about; never its message): two paths that reach a leak of `w`
        with `w` taken by different calls are one leak, told by the path whose `first`
        (the line the reference was taken at) comes first in the source.  `demote`, a
        registered exception, makes it a note that names the exception, unless it is
        turned off."""
        demoted_by: tuple[str, ...] = ()
        if demote is not None and self.allows(demote):
            level, demoted_by = "note", (demote.id,)
        waived, self.waived = ((self.waived,) if self.waived else ()), None
        # (a finding that holds only under conditions the whole program decides does not
        # stand for one that holds without them)
        dkey = (rule.id, loc, obj, conditions)
        if dkey in self.findings and first >= self.first_of.get(dkey, 0):
            return
        self.first_of[dkey] = first
        all_notes = path_notes(state.trail if state is not None else None, rule.path, loc, obj,
                               notes)
        self.findings[dkey] = Finding(rule.id, level or rule.level, loc, message, self.fn.name,
                                      all_notes, confidence, conditions=conditions,
                                      demoted_by=demoted_by, waived_by=waived)

    def emit(self, rule, fact: tuple) -> None:
        """A fact about this function for `rule`'s program-wide `resolve`."""
        self.facts.append((rule.id, fact))

    # --- the walk -------------------------------------------------------------------------
    def run(self) -> FunctionResult:
        fn = self.fn
        seen: dict[int, dict] = {}
        merged: dict[int, dict] = {}
        work: deque[tuple[int, State]] = deque()
        keys = self.slot_keys
        degraded = False

        def arrive(block: int, st: State) -> None:
            states = seen.setdefault(block, {})
            k = st.key(keys)
            if k in states:
                return
            if len(states) < self.bound and not degraded:
                states[k] = st
                work.append((block, st))
                return
            merge(block, st)

        def merge(block: int, st: State) -> None:
            # past the bound, paths that agree on what the rules depend on most (sections,
            # references, provenance) are joined together; the rest in one catch-all
            if degraded:
                settle(block, st)
                return
            parts = merged.setdefault(block, {})
            part = st.coarse_key()
            if part not in parts and len(parts) >= MERGE_PARTS:
                part = None
            acc = parts.get(part)
            new = join(acc, st, self.slot_joins) if acc is not None else st
            if acc is not None and new.key(keys) == acc.key(keys):
                return
            parts[part] = new
            work.append((block, new))

        # once the budget is spent: one state per block, joined, and blocks taken in
        # program order so that a join is complete before it flows on (classic dataflow)
        single: dict[int, State] = {}
        heap: list[tuple[int, int]] = []
        order: dict[int, int] = {}

        def settle(block: int, st: State) -> None:
            acc = single.get(block)
            new = join(acc, st, self.slot_joins) if acc is not None else st
            if acc is not None and new.key(keys) == acc.key(keys):
                return
            if acc is None or block not in queued:
                queued.add(block)
                heapq.heappush(heap, (order.get(block, len(order)), block))
            single[block] = new

        queued: set[int] = set()
        arrive(fn.entry, self.initial)
        on_exit = self.on.get("on_exit", ())
        t0 = time.perf_counter()
        budget = self.budget
        while work or heap:
            if not degraded and (self.steps >= budget.steps or (
                    self.steps & 255 == 0 and time.perf_counter() - t0 > budget.seconds)):
                # the budget is spent: the paths still open are joined per block from here
                # on, so the walk reaches every exit once more and ends
                what = f"{budget.steps} steps" if self.steps >= budget.steps else \
                    f"{budget.seconds:g} s"
                self.partial = (f"analysed only partly: its paths exceed the budget of {what}; "
                                "the rest were joined, so findings after that point may be "
                                "missed")
                degraded = True
                order.update(_program_order(fn))
                seen.clear()
                merged.clear()
                pending = list(work)
                work.clear()
                for block_id, open_st in pending:
                    settle(block_id, open_st)
            if degraded:
                if self.steps >= 4 * budget.steps:
                    self.partial += f", and it stopped at {self.steps} steps"
                    break
                if not heap:
                    break
                _, bid = heapq.heappop(heap)
                queued.discard(bid)
                st = single[bid]
            else:
                bid, st = work.popleft()
            self.steps += 1
            block = fn.blocks[bid]
            for ev in block.events:
                st = self.transfer(st, ev)
            if bid == fn.exit:
                self.exit_states.append(st)
                for hook in on_exit:
                    hook(st)
                continue
            for succ, outcome in block.succs:
                nst = st if outcome is None else self.refine(st, block.cond, outcome)
                if nst is not None:
                    arrive(succ, nst)
        for hook in self.on.get("on_end", ()):
            self.waived = None
            hook(self.exit_states)
        findings = sorted(self.findings.values(), key=Finding.sort_key)
        return FunctionResult(fn, findings, self.exit_states, self.steps, self.subscribers,
                              self.facts, self.partial)

    def return_value(self, st: State, value) -> int | None:
        """The constant a return hands back, if known; -1 for some negative errno
        (`return PTR_ERR(p);`, a call the model says returns one); 1 for a pointer known
        not to be NULL."""
        if value is None:
            return None
        ret = value.const if value.const is not None else st.const(value.text)
        if ret is None and value.kind == "var" and st.negative(value.text):
            return -1  # `if (ret < 0) return ret;`
        if ret is None and value.tmp is not None:
            fm = self.calls.get(value.tmp, (None, None))[1]
            if fm is not None and fm.errno:
                return -1
        if ret is None and self.fn.returns_ptr and value.kind == "var" and \
                st.truth(value.text) is True:
            # `if (!ruser) unlock(); return ruser;`: a pointer tested non-NULL on the
            # way is a true result (held exactly when it returns one: `enters_if`)
            return 1
        return ret

    def notify(self, hook: str, st: State, *args) -> State:
        """Call every subscriber of `hook`; a subscriber may return the state with its slot
        changed."""
        for fn in self.on.get(hook, ()):
            self.waived = None
            out = fn(st, *args)
            if out is not None:
                st = out
        return st

    # --- transfer functions -----------------------------------------------------------------
    def transfer(self, st: State, ev) -> State:
        if isinstance(ev, Call):
            return self.call(st, ev)
        if isinstance(ev, Assign):
            if ev.moves:
                return st  # (`pte++`: within the object it was in, NULL or not as it was)
            st = self.notify("on_assign", st, ev)
            st = self.assign(st, ev)
            self.bind_handle(ev)
            return lifetimes.on_assign(
                st, ev, self.calls, self.in_section(st), self.fn.temps,
                self.flavours.in_reader(st) if self.enabled(lifetimes.LOOKUP_UNDER_LOCK)
                else None)
        if isinstance(ev, Deref):
            return self.notify("on_deref", st, ev)
        if isinstance(ev, RcuAccess):
            return self.notify("on_access", st, ev, self.model.access.get(ev.macro))
        if isinstance(ev, PlainAccess):
            return self.notify("on_plain", st, ev)
        if isinstance(ev, Walk):
            wm = self.model.walks.get(ev.macro)
            st = self.notify("on_walk", st, ev, wm)
            # the walk assigns its cursor (inside the macro): what was known of it goes
            st = st.forget(ev.cursor.text)
            stated = wm is not None and wm.cond is not None and len(ev.args) > wm.cond
            return lifetimes.on_walk(st, ev, self.in_section(st), stated, self.fn.temps)
        if isinstance(ev, Dead):
            st = self.notify("on_dead", st, ev)
            return lifetimes.on_dead(st, ev.names, self.fn.temps)
        if isinstance(ev, Return):
            st = self.notify("on_return", st, ev)
            ret = self.return_value(st, ev.value)
            sign = ret < 0 if ret is not None else st.negative(ev.value.text) \
                if ev.value is not None and ev.value.kind == "var" else None
            return lifetimes.on_return(replace(st, ret=ret, ret_negative=sign),
                                       ev.value, ev.loc,
                                       self.enabled(lifetimes.RETURNED_WITH_CONTAINER))
        return st

    def call(self, st: State, ev: Call) -> State:
        fm = self.callee_model(ev, st)
        use = self.counted.get(ev.result)
        if use is not None and fm is not None:
            # `atomic64_inc(&prog->aux->refcnt)`: a get of `prog`
            ev, fm = counters.as_reference(ev, fm, use)
        kept = lifetimes.keeper(ev, fm, self.locals) if fm is not None else None
        if kept is not None:
            # `netdev_put(dev, &q->dev_tracker)`: `q`'s reference, not this function's nor
            # its caller's: no rule or summary counts it
            st = lifetimes.kept_reference(st, ev, fm, kept)
            fm = replace(fm, get=None, put=None, returns_ref=False, owner=None)
        self.calls[ev.result] = (ev, fm)
        st = self.notify("on_call", st, ev, fm)
        for i, a in enumerate(ev.args):
            # `&x` lets the callee write x: what branches knew of it goes, unless the
            # model says the call keeps what is tested (read_seqbegin_or_lock()'s parity)
            if a.kind == "addr" and a.root and a.text == "&" + a.root and \
                    not (fm is not None and i in fm.keeps):
                st = st.forget(a.root)
        if fm is None:
            return st
        if fm.assume is not None:
            st = replace(st, consts=st.consts | {(ev.result, fm.assume)})
        if fm.err_test is not None and fm.err_test < len(ev.args) and \
                ev.args[fm.err_test].kind == "var":
            # `IS_ERR(p)`, tested at once or through a flag that keeps its result
            # (`__ret_warn_on = !!(IS_ERR(p))` inside WARN_ON())
            kind = "errnull" if fm.err_or_null else "err"
            st = replace(st, pending=st.pending | {(ev.result, kind,
                                                    ev.args[fm.err_test].text)})
        if fm.asserts:
            st = replace(st, assumed=st.assumed | {fm.asserts})
        if fm.enter:
            fkey = self.flavours.key(fm.enter, self.handle_of(ev, fm))
            opener = self.context.resolve(ev.callee) if fm.inferred else None
            if fm.enter_if in ("true", "zero", "nonneg"):
                # entered on the branch where the result is true (or, "zero", false;
                # "nonneg", not negative)
                kind = {"true": "enter", "zero": "~enter"}.get(fm.enter_if, ENTER_NONNEG)
                self.pending_openers[ev.result] = opener
                st = replace(st, pending=st.pending | {(ev.result, kind, fkey)})
            else:
                st = self.enter(st, fkey, ev, opener=opener)
        if fm.exit:
            fkey = self.flavours.key(fm.exit, self.handle_of(ev, fm))
            st = self.entered_by_value(st, ev, fkey)
            st = self.leave(st, fkey, ev)
        if fm.enter_maybe and not fm.enter:
            # held on some of the callee's paths only: this path's nesting is unknown
            st = st.with_depth(self.flavours.key(fm.enter_maybe, None), UNKNOWN)
        for i, label in fm.puts_handles:
            k = self.handle_object(ev, i, label)
            a = ev.args[i] if i < len(ev.args) else None
            if k is None and a is not None and (a.kind == "var" or (a.kind == "field" and
                                                a.root and a.path and a.path[0][:2] == "->")):
                # (`module_put(p->owner)` inside: the reference this path holds on what
                # the argument's field points to; `put_nfs_version(clp->cl_nfs_mod)`: on
                # what `clp->cl_nfs_mod->owner` points to)
                root = st.alias(a.root or a.text) or a.root or a.text
                k = root + "".join(a.path or ()) + label
                k = k if st.refcount(k) > 0 else None
            elif k is None and a is not None and label == lifetimes.THROUGH and \
                    a.kind == "addr" and a.path == () and a.root:
                # `foo_put(&m)`: the object the variable `m` points to
                k = st.alias(a.root) or a.root
            if k is not None:
                st = lifetimes.drop(st, k, ev.loc, f"{ev.callee}()")
        if fm.projects is not None:
            st = lifetimes.projected(st, ev, fm.projects)
        return lifetimes.on_call(st, ev, fm, self.in_section(st), self.locals, self.holders)

    def handle_object(self, ev: Call, i: int, label: str) -> str | None:
        """The object a callee reaches from argument `i` by `label`: one a handle bound
        here, or a local loaded from that parameter's fields."""
        if i >= len(ev.args):
            return None
        a = ev.args[i]
        bound = self.handle_objs.get(lifetimes.handle(a.text, label))
        if bound is not None:
            return bound
        if a.kind == "var" and a.text in self.fn.params:
            j = self.fn.params.index(a.text)
            return next((v for v, h in self.handles.items() if h == (j, label)), None)
        return None

    def open_section(self, st: State, fkey: str, loc: Loc, opener: str | None) -> State:
        """One more level of `fkey`; a vanilla section re-protects what references kept."""
        fl = self.flavours
        if fkey in fl.vanilla and fl.vanilla_depth(st) == 0:
            st = lifetimes.on_section_opened(st)
        d = st.depth(fkey)
        if d != UNKNOWN:
            st = st.with_depth(fkey, min(d + 1, CAP))
        if d == 0:
            st = st.with_origin(fkey, loc)
        return replace(st, entered=st.entered | {fkey},
                       openers=(*st.openers, (fkey, opener)))

    def enter(self, st: State, fkey: str, ev: Call | None, loc: Loc | None = None,
              opener: str | None = None) -> State:
        """Enter a section at a call (or, for a trylock's result, on a branch at `loc`).

        `opener` is the analysed helper whose inferred effect this is (None: a primitive
        or a helper the model describes).
        """
        loc = ev.loc if ev is not None else loc
        st = self.notify("on_section_enter", self.open_section(st, fkey, loc, opener), ev,
                         fkey)
        what = _what(ev) if ev is not None else "the call tested here"
        if ev is None:
            return st.note(loc, f"the {self.flavours.name(fkey)} section is held on this "
                                "branch", "section", fkey)
        return st.note(loc, f"{what} enters the {self.flavours.name(fkey)} read-side section",
                       "section", fkey)

    def leave(self, st: State, fkey: str, ev: Call) -> State:
        st = self.notify("on_section_exit", st, ev, fkey)
        fl = self.flavours
        target = fkey
        if st.depth(fkey) == 0:
            target = fl.mismatched(st, fkey) or fkey
        d = st.depth(target)
        if d == 0 and target == fkey and fkey not in st.entered:
            st = replace(st, borrowed=st.borrowed | {fkey})
        if d == UNKNOWN or d == 0:
            return st.note(ev.loc, f"{_what(ev)} leaves the {fl.name(fkey)} section",
                           "section", fkey)
        st = st.with_depth(target, d - 1)
        for i in range(len(st.openers) - 1, -1, -1):
            if st.openers[i][0] == target:
                st = replace(st, openers=st.openers[:i] + st.openers[i + 1:])
                break
        if d - 1 == 0:
            st = st.with_origin(target, None)
            if target in fl.vanilla and fl.vanilla_depth(st) == 0:
                st = lifetimes.on_section_closed(st, ev.loc)
        return st.note(ev.loc, f"{_what(ev)} leaves the {fl.name(target)} section",
                       "section", target)

    def entered_by_value(self, st: State, ev: Call, fkey) -> State:
        """`pte = pte_offset_map(...); ... pte_unmap(pte - 1);` with no test between: the
        section a value says is held (entered where `pte` is not NULL) is released with
        that value, which the release needs to be the entered one (include/linux/pgtable.h:
        pte_unmap() of what pte_offset_map() returned)."""
        roots = {a.root for a in ev.args if a.root}
        hit = {p for p in st.pending if p[0] in roots and p[1] == "enter" and p[2] == fkey}
        if not hit:
            return st
        st = replace(st, pending=st.pending - hit)
        if st.depth(fkey) != 0:
            return st  # (a copy of a value whose test entered it: `start = pte = map()`)
        v = min(v for v, _, _ in hit)
        return self.enter(st, fkey, None, ev.loc, opener=self.pending_openers.get(v))

    def bind_handle(self, ev: Assign) -> None:
        """`cgrp = cgroup_kn_lock_live(of->kn)`: `cgrp` is what `of->kn` leads the callee to."""
        value = ev.value
        if ev.target.kind != "var" or value.kind != "call" or not value.tmp:
            return
        call, fm = self.calls.get(value.tmp, (None, None))
        if call is None or fm is None or fm.returns_handle is None:
            return
        i, label = fm.returns_handle
        if i < len(call.args):
            self.handle_objs[lifetimes.handle(call.args[i].text, label)] = ev.target.text

    def assign(self, st: State, ev: Assign) -> State:
        target = ev.target
        if target.kind != "var":
            stale = {t for t in st.truths if t[0] == target.text
                     or t[0].startswith((target.text + "->", target.text + "."))}
            if stale:
                st = replace(st, truths=st.truths - stale)
            known = True if ev.counts_up and self.enabled(COUNTED_UP) else \
                None if ev.value.const is None or ev.ptr else bool(ev.value.const)
            if known is not None and target.kind == "field":
                # `out->atomic++`, `buf.atomic = 0`: what a test of it would find
                st = replace(st, truths=st.truths | {(target.text, known)},
                             truth_roots=st.truth_roots | {(target.text, target.root)}
                             if target.root else st.truth_roots)
            return self.copy_truths(st, ev)
        name = target.text
        st = st.forget(name)
        st = self.copy_truths(st, ev)
        value = ev.value
        if value.const is not None:
            st = replace(st, consts=st.consts | {(name, value.const)})
        elif value.kind == "call" and value.tmp is not None and \
                self.return_value(st, value) == -1:
            # `tsk = ERR_PTR(-ESRCH);`: an error, returned later as `return tsk;`
            st = replace(st, consts=st.consts | {(name, -1)})
        elif value.op is not None and st.const(value.op[1]) is not None:
            # `lockless = !(seq & 1)` with seq known
            r = evaluate(value.op, st.const(value.op[1]))
            if r is not None:
                st = replace(st, consts=st.consts | {(name, int(not r) if value.neg else r)})
        src = value.tmp or (value.text if value.kind == "var" else None)
        if src is not None:
            extra = {(name, _invert(kind) if value.neg else kind, f)
                     for (k, kind, f) in st.pending if k == src}
            if extra:
                st = replace(st, pending=st.pending | extra)
                if value.tmp:
                    # (a call's result has one name at a time)
                    st = replace(st, pending=frozenset(
                        p for p in st.pending if not (p[0] == src and p[1] in _ERR)))
                if src in self.pending_openers:
                    self.pending_openers[name] = self.pending_openers[src]
            c = st.const(src) if value.kind == "var" else None
            if c is not None:
                st = replace(st, consts=st.consts | {(name, int(not c) if value.neg else c)})
        return st

    def copy_truths(self, st: State, ev: Assign) -> State:
        """A structure copied (`*msg = uwq->msg`): what is known, and what is learnt later,
        of one's fields holds for the other's (`msg->event`, `uwq->msg.event`)."""
        value, target = ev.value, ev.target
        if ev.ptr or value.kind not in ("field", "var") or \
                target.kind not in ("deref", "var", "field"):
            return st
        src = value.text + "."
        dst = target.text[1:] + "->" if target.kind == "deref" else target.text + "."
        self.struct_copies.add((dst, src))
        extra = {(k.replace(src, dst), v) for k, v in st.truths if src in k}
        if not extra:
            return st
        roots = {r for r in (target.root, value.root) if r}
        return replace(st, truths=st.truths | extra,
                       truth_roots=st.truth_roots | {(k, r) for k, _ in extra for r in roots})

    def copied_keys(self, key: str) -> list[str]:
        """The same test spelled through a structure copy."""
        out = []
        for dst, src in self.struct_copies:
            if src in key:
                out.append(key.replace(src, dst))
            if dst in key:
                out.append(key.replace(dst, src))
        return out

    def refine(self, st: State, cond: Cond | None, outcome: bool) -> State | None:
        if cond is None:
            return st
        st = st.branched(cond, outcome)
        subj = cond.subject
        if subj.neg:
            subj = replace(subj, neg=False)
            outcome = not outcome
        self.cond_named[subj.tmp if subj.kind == "call" else subj.text] = subj.named
        if cond.mode:
            self.cond_modes.add(subj.text)
        st = self.notify("on_branch", st, subj, outcome)
        st = lifetimes.on_branch(st, subj, outcome, cond.loc)
        if subj.is_err is not None and outcome:
            st = lifetimes.no_object(st, subj.is_err)  # `x == ERR_PTR(-EAGAIN)`
        if subj.equals is not None and outcome and subj.equals in self.field_loads:
            # `sk = skb->sk; if (!sk) sk = lookup(); ... if (sk == skb->sk)`: a variable
            # that holds either the field's borrowed object or the producer's counted
            # one, found equal to the field, holds the borrowed one (the function
            # releases it only where it differs: see `beliefs.owned_results`)
            var = subj.equals[0]
            origin = st.lookup(st.ref_origin, var)
            if origin is not None and origin[2].rstrip("()") in self.beliefs:
                st = st.with_refcount(var, 0)
        key = subj.tmp if subj.kind == "call" else subj.text
        if subj.kind == "call":
            call, fm = self.calls.get(key, (None, None))
            if fm is not None and fm.err_test is not None and fm.err_test < len(call.args) \
                    and call.args[fm.err_test].kind == "var":
                # `file = ERR_PTR(-ENOMEM); ... if (IS_ERR(file))`: decided by the value
                c = st.const(call.args[fm.err_test].text)
                if c is not None and (c < 0 or (fm.err_or_null and c == 0)) != outcome:
                    return None  # (IS_ERR_OR_NULL() of a NULL is true)
        err = self.err_tested(st, subj, outcome)
        sure = self.err_tested(st, subj, outcome, strict=True)
        if subj.kind == "call" and subj.tmp:
            st = replace(st, pending=frozenset(
                p for p in st.pending if not (p[0] == subj.tmp and p[1] in _ERR)))
        if err is not None:
            # `IS_ERR(n)` true: an error pointer, no object and no reference
            st = lifetimes.no_object(st, err)
        if sure is not None and st.const(sure) is None:
            # ... and until it is assigned again, what `ERR_PTR()` would have made it: a
            # later `IS_ERR(n)` gives the same answer (`if (!IS_ERR(n)) put(n)` at a
            # common exit is not reached with it false)
            st = replace(st, consts=st.consts | {(sure, -1)})
        if subj.kind == "call" and key is not None:
            c = st.const(key)
            if c is not None and bool(c) != outcome:
                return None  # a call the model says returns a known value
            call, fm = self.calls.get(key, (None, None))
            if not outcome and fm is not None and fm.same_object is not None and \
                    fm.tryget is None and fm.same_object < len(call.args) and \
                    call.args[fm.same_object].kind == "addr":
                # `if (!get_device(&chip->dev))`: it returns the object it was given (a
                # tryget may fail with NULL; this does not), and a member's address is
                # never NULL
                return None
        if subj.op is not None and subj.op[0] == "==" and subj.op[2] < 0 and outcome:
            call, fm = self.calls.get(subj.op[1], (None, None))
            if fm is not None and fm.errno and call.args and call.args[0].kind == "var":
                # `PTR_ERR(keyring) == -ENOKEY`: an error pointer, no object, no reference
                st = lifetimes.no_object(st, call.args[0].text)
        if subj.op is not None and subj.op[2] == 0 and \
                (subj.op[0], outcome) in lifetimes.SIGN_SHOWN:
            # `ret < 0`: a known sign decides the branch; an unknown one is learnt
            neg = lifetimes.SIGN_SHOWN[(subj.op[0], outcome)]
            known = st.negative(subj.op[1])
            if known is not None and known != neg:
                return None
            if known is None:
                st = replace(st, signs=st.signs | {(subj.op[1], neg)})
        if subj.op is not None:
            self.cond_ops[subj.text] = subj.op
            # `seq & 1` with `seq` known: the branch is decided
            v = st.const(subj.op[1])
            r = evaluate(subj.op, v) if v is not None else None
            if r is not None and bool(r) != outcome:
                return None
        if subj.kind == "var":
            # `next = mem_cgroup_from_css(css)`: the alias is NULL exactly when css is
            other = st.alias(subj.text)
            known = st.truth(other) if other and other != subj.text else None
            if known is not None and known != outcome:
                return None
        if subj.kind in ("var", "field", "other") and key != "?":
            # a location tested again with no write in between gives the same answer
            c = st.const(key) if subj.kind == "var" else None
            if c is not None and bool(c) != outcome:
                return None
            known = st.truth(key)
            if known is not None and known != outcome:
                return None
            copies = self.copied_keys(key) if self.struct_copies else []
            if any(st.truth(k) not in (None, outcome) for k in copies):
                return None
            if known is None and c is None:
                roots = _roots(subj)
                st = replace(st, truths=st.truths | {(key, outcome)} |
                             {(k, outcome) for k in copies},
                             truth_roots=st.truth_roots | {(key, r) for r in roots} |
                             {(k, r) for k in copies for r in roots})
                if not outcome and subj.kind == "var":
                    st = replace(st, consts=st.consts | {(key, 0)})  # false means 0/NULL
        effects = [p for p in st.pending if p[0] == key and p[1].lstrip("~") == "enter"]
        st = replace(st, pending=st.pending - set(effects))
        enters = [(fkey, key) for _, kind, fkey in effects if outcome != kind.startswith("~")]
        if subj.op is not None and subj.op[2] == 0 and \
                (subj.op[0], outcome) in lifetimes.SIGN_SHOWN:
            # `if (id < 0)` after a call that enters when it returns an id: by the sign
            ids = [p for p in st.pending if p[0] == subj.op[1] and p[1] == ENTER_NONNEG]
            st = replace(st, pending=st.pending - set(ids))
            if not lifetimes.SIGN_SHOWN[(subj.op[0], outcome)]:
                enters += [(fkey, v) for v, _, fkey in ids]
        for fkey, v in enters:
            st = self.enter(st, fkey, None, cond.loc, opener=self.pending_openers.get(v))
        return st


    def err_tested(self, st: State, subj: Val, outcome: bool,
                   strict: bool = False) -> str | None:
        """The variable a branch shows to be an error pointer (or NULL): `IS_ERR(n)`
        taken, directly or through a flag that holds its result.  `strict`: an error
        pointer for certain (not IS_ERR_OR_NULL())."""
        key = subj.tmp if subj.kind == "call" else subj.text if subj.kind == "var" \
            else None
        for k, kind, var in st.pending:
            if k == key and kind in _ERR and outcome != kind.startswith("~") and \
                    not (strict and kind.endswith("null")):
                return var
        return None


_ERR = ("err", "~err", "errnull", "~errnull")
# a section entered when the call's result is not negative (`enter_if = "nonneg"`)
ENTER_NONNEG = "enter if nonneg"


def _program_order(fn: Function) -> dict[int, int]:
    """Blocks in reverse postorder from the entry (back edges aside, predecessors first)."""
    post: list[int] = []
    done: set[int] = set()
    stack = [(fn.entry, iter(s for s, _ in fn.blocks[fn.entry].succs))]
    done.add(fn.entry)
    while stack:
        b, it = stack[-1]
        nxt = next(it, None)
        if nxt is None:
            stack.pop()
            post.append(b)
        elif nxt not in done:
            done.add(nxt)
            stack.append((nxt, iter(s for s, _ in fn.blocks[nxt].succs)))
    return {b: i for i, b in enumerate(reversed(post))}


def _roots(subj: Val) -> set[str]:
    """The variables a tested value was computed from."""
    out = {subj.root} if subj.root else set()
    if subj.op is not None:
        out.add(subj.op[1])
    out |= set(subj.same or ())
    if subj.equals is not None:
        out.add(subj.equals[0])
    return out


def _member(arg: Val, path: str) -> str:
    """How the caller spells the callee's `param->path` of this argument (`&buf` with
    `->atomic`: `buf.atomic`)."""
    if arg.kind == "addr" and path.startswith("->"):
        return arg.text[1:] + "." + path[2:]
    return arg.text + path


def _keeps(op: tuple, bits: int) -> bool:
    """`x | K`, `x & K`: the result has `bits` as `x` has them."""
    return (op[0] == "|" and op[2] & bits == 0) or (op[0] == "&" and op[2] & bits == bits)


def _invert(kind: str) -> str:
    """A pending effect copied through `!`: it now happens when the value is false."""
    return kind[1:] if kind.startswith("~") else "~" + kind


def _what(ev: Call) -> str:
    return f"{ev.callee}()" if ev.callee else "the call"
