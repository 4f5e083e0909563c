"""rcu-deref-unprotected: an RCU-protected load with no read-side section held."""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.engine.exceptions import exception
from analyzer.engine.run import PUBLISHED
from analyzer.ir import Rule
from checkers.base import Checker, register

CALLERS = exception(
    "rcu-deref-unprotected.callers-must-hold", "rcu-deref-unprotected",
    "an RCU load in a function with no caller in the analysed code, no section of its "
    "own and none on any of its paths, is a note",
    """Helpers such as mem_cgroup_from_task() or a subsystem's `foo_rcu()` accessor
    rely on every caller holding the read-side section, and say so only in a comment
    or a `__must_hold(RCU)` sparse does not check.  With the callers in the analysed
    code the requirement is propagated and checked at each call; with none (a
    static function whose callers were not compiled, an exported one) the finding can
    only say what every caller must do.  A function that takes the section itself on
    some path, or holds it elsewhere, is still reported.""",
    "rcu_deref_unprotected.c:tbl_cur", "rcu_deref_unprotected.c:tbl_weight_early",
    effect="demotes")
CHECKED = exception(
    "rcu-deref-unprotected.lockdep-condition", "rcu-deref-unprotected",
    "an RCU load whose lockdep condition names another protection is not checked",
    """`rcu_dereference_check(p, lockdep_is_held(&L))` and
    `list_for_each_entry_rcu(pos, head, member, lockdep_is_held(&L))` state that the
    load is safe under RCU or with L held (Documentation/RCU/rcu_dereference.rst,
    Documentation/RCU/lockdep.rst); lockdep checks it at run time.  The condition is
    not evaluated here, so the load is taken as protected on every path, also where
    neither is held.""",
    "rcu_deref_unprotected.c:tbl_weight_either", "rcu_deref_unprotected.c:tbl_weight_early")

_FALSE_CONDS = {"0", "false", "(0)", "(false)"}


@dataclass
class _Use:
    loc: object
    what: str
    needs: str
    held: bool
    state: object
    waived: str | None = None  # a turned-off exception that would have let it pass
    callee: str | None = None  # the function called, as the call graph names it


@register
class RcuDerefUnprotected(Checker):
    """
    ## What it finds
    `rcu_dereference()`, `rcu_dereference_bh()`/`_sched()`, `srcu_dereference()`, an
    RCU list walk (`list_for_each_entry_rcu()`, `hlist_for_each_entry_rcu()`, …), or a
    call to a function that requires the caller to hold RCU (`mem_cgroup_from_id()`),
    on a path where no read-side section of a protecting flavour is held. The
    `_check(p, cond)` and `_protected(p, cond)` forms state their own protection and
    are not reported; nor are paths after a lockdep-style assertion
    (`WARN_ON_ONCE(!rcu_read_lock_held())`).

    A function that never enters a section itself and always loads RCU data is
    presumably called with the lock held: that is reported at `note` level, saying
    the callers must hold it. Unless other functions take the section themselves
    around their calls of the same helper (`rcu_read_lock(); list_lru_add(lru, item,
    nid, mem_cgroup_from_slab_obj(item)); rcu_read_unlock();`): then the helper's
    callers wrap it, and one with no analysed caller that calls it bare, does not hand
    the pointer back, is not named to run in its caller's section (`foo_rcu()`) and is
    not a callback (its address taken: a packet handler runs in the stack's section), is
    a warning. So is one that drops its caller's section to sleep and
    takes it again (`rcu_read_unlock(); request_module(); rcu_read_lock();`): its
    loads are inside the caller's section, and the requirement is checked at its
    calls. A helper's load through what its parameter points to (`rcu_dereference(
    *prev)`) needs the section only where others can see that memory: a caller that
    passes an object it has just allocated and not yet published (`tbl =
    kmalloc(...); nested_table_alloc(ht, tbl->buckets)`) needs none.

    ## Why is this bad
    Without a reader section nothing stops a concurrent updater from freeing the
    object after the load: the pointer may be dangling by the time it is used. With
    CONFIG_PROVE_RCU the same code triggers a "suspicious rcu_dereference_check()
    usage" splat, but only on paths that run.

    ## Example
    ```c
    info = rcu_dereference(memcg->nodeinfo[nid]->shrinker_info);
    unit = info->unit[index];           /* no rcu_read_lock() held */
    ```

    ## Use instead
    Wrap the load and every use of its result in `rcu_read_lock()`/
    `rcu_read_unlock()`; on the update side, where a lock excludes writers, say so
    with `rcu_dereference_protected(p, lockdep_is_held(&lock))`.
    """

    rule = Rule(
        "rcu-deref-unprotected", "RcuDerefUnprotected",
        "RCU-protected pointer loaded with no read-side section held",
        level="warning", precision="high", cwe=("CWE-362", "CWE-416"),
        tags=("concurrency", "rcu", "correctness"),
        path=("branch", "section"),
    )

    def __init__(self, run) -> None:
        super().__init__(run)
        self.uses: list[_Use] = []
        self.enters: set[str] = set()

    def on_section_enter(self, st, ev, fkey) -> None:
        if ev is not None:
            self.enters.add(self.run.flavours.family(fkey))

    def on_access(self, st, ev, am) -> None:
        if am is None or am.needs == "none":
            return
        if am.cond is not None and len(ev.args) > am.cond and \
                ev.args[am.cond].strip() not in _FALSE_CONDS and self.run.allows(CHECKED):
            return
        handle = ev.args[am.handle] if am.handle is not None and am.handle < len(ev.args) \
            else None
        self.check(st, ev.loc, f"{ev.macro}({ev.args[0] if ev.args else ''})", am.needs, handle)

    def on_walk(self, st, ev, wm) -> None:
        if wm is None or ev.step or wm.needs == "none":
            return
        if wm.cond is not None and len(ev.args) > wm.cond and self.run.allows(CHECKED):
            return
        self.check(st, ev.loc, f"{ev.macro}({ev.cursor.text}, {ev.head}, …)", wm.needs, None)

    def on_call(self, st, ev, fm) -> None:
        # a requirement that holds only under conditions the call leaves open is not one;
        # that this function's own parameters point to published objects is no condition
        # here, where they are taken to (its callers decide it for objects they just made)
        if fm is not None and fm.requires and (not fm.requires_when or any(
                all(op == PUBLISHED for _, _, op, _, _ in conj) for conj in fm.requires_when)):
            what = f"{ev.callee}()"
            if fm.inferred and fm.why_requires and fm.why_requires.startswith("declared "):
                what += f", which is {fm.why_requires},"
            elif fm.inferred and fm.why_requires:
                what += f", which uses {fm.why_requires} without taking the lock itself,"
            node = self.run.context.resolve(ev.callee) if ev.callee else None
            self.check(st, ev.loc, what, fm.requires, None, callee=node or ev.callee or "")

    def check(self, st, loc, what, needs, handle, callee=None) -> None:
        held = self.run.flavours.holds(st, needs, handle)
        if held is None:
            return
        self.uses.append(_Use(loc, ("a call to " if callee is not None else "") + what, needs,
                              held, st, self.run.take_waived(), callee or None))

    def on_end(self, exit_states) -> None:
        fl = self.run.flavours
        held_somewhere = {u.loc for u in self.uses if u.held}
        for u in self.uses:
            if u.held:
                continue
            self.run.waived = u.waived
            handled = u.needs in fl.handled
            # a function that drops its caller's section (to sleep) and takes it again
            # works inside the caller's: its own lock is the retake
            borrows = any(u.needs in st.borrowed or (u.needs in fl.vanilla and
                                                     st.borrowed & fl.vanilla)
                          for st in exit_states)
            locks_itself = not borrows and self.enters_own(u.needs)
            lock = fl.lock(u.needs if handled else "rcu")
            # documented to be entered holding it: this path has released the caller's
            caller_held = bool(fl.entry) and (fl.family(u.needs) in fl.entry or (
                u.needs in fl.vanilla and fl.entry & fl.vanilla))
            if locks_itself or caller_held or u.loc in held_somewhere:
                self.report(u.loc, f"{u.what} with no {lock} held on this path", u.state,
                            obj=u.what)
            elif not self.run.context.has_callers:
                # with callers in the analysed code, the requirement is checked at their calls
                # (an accessor hands the pointer back; a function named to run inside
                # its caller's section, `foo_rcu()`, says its callers hold it; a callback,
                # `.func = mpls_forward`, runs in whatever section its caller holds)
                own = () if u.callee is None or self.fn.returns_ptr or self.fn.callback or \
                    self.model.named_as(self.fn.name, "in_reader") else \
                    (("alone", u.callee, self.run.context.node),)
                self.report(u.loc, f"{u.what} in {self.fn.name}() with no read-side section "
                            f"here: every caller must hold {lock}", u.state, obj=u.what,
                            demote=CALLERS, confidence="medium", conditions=own)
                if own:
                    self.report(u.loc, f"{u.what} with no {lock} held on this path, where "
                                "other callers in the analysed code take the read-side "
                                "section around it themselves", u.state, obj=u.what,
                                conditions=(("wrapped", u.callee, self.run.context.node),))
        retakes = any(st.borrowed for st in exit_states)
        for u in self.uses:
            # a requirement this function meets with a section it takes itself (not one
            # that retakes its caller's): the callee is one its callers wrap
            if u.held and u.callee is not None and not retakes and self.enters_own(u.needs):
                self.run.emit(self.rule, ("wraps", u.callee, self.run.context.node))

    def enters_own(self, needs: str) -> bool:
        """The function takes a section of the flavour `needs` asks for itself."""
        fl = self.run.flavours
        return needs in self.enters if needs in fl.handled else bool(self.enters & fl.explicit)

    @classmethod
    def resolve(cls, findings, facts):
        """A helper with no analysed caller that calls a function requiring RCU with no
        section: a note saying its callers must hold one, unless other functions take
        the section around their own calls of the same function (the convention is that
        callers of it wrap it, and this one does not)."""
        wraps: dict[str, set[str]] = {}
        for _, fact in facts:
            if fact[0] == "wraps":
                wraps.setdefault(fact[1], set()).add(fact[2])
        kept = []
        for f in findings:
            cond = next((c for c in f.conditions if c[0] in ("alone", "wrapped")), None)
            if cond is None:
                kept.append(f)
                continue
            others = wraps.get(cond[1], set()) - {cond[2]}
            if bool(others) == (cond[0] == "wrapped"):
                kept.append(f)
        return kept
