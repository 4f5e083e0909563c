"""rcu-unbalanced: read-side lock and unlock that do not pair on some path."""

from __future__ import annotations

from analyzer.engine.state import UNKNOWN
from analyzer.ir import Rule
from checkers.base import Checker, Slot, register


@register
class RcuUnbalanced(Checker):
    """
    ## What it finds
    A read-side section (`rcu_read_lock()`, `_bh`, `_sched`, `srcu_read_lock()` by
    its `srcu_struct`) that is still held when the function returns on some path but
    not on others; an unlock on a path where no matching lock is held (a double
    unlock, or a lock taken only in one branch); an unlock of the wrong flavour
    (`rcu_read_lock()` … `rcu_read_unlock_bh()`); an `srcu_read_unlock()` on a
    different `srcu_struct` than the lock.

    Functions that return holding the section on every path (such as
    `folio_memcg_lock()`), their partners that release a section taken by the
    caller, and trylock-style functions whose return value says whether the section
    is held, are recorded as the function's effect, not reported.

    ## Why is this bad
    A section left held makes every later grace period wait for a reader that never
    ends: `synchronize_rcu()` hangs, memory freed by `call_rcu()` is never reclaimed,
    and with PREEMPT_RCU the task's nesting count is corrupted. An unlock without a
    lock ends a section someone else relied on. The flavours differ in what they
    disable (BH, preemption), so a mismatched pair leaves BH or preemption disabled.

    ## Example
    ```c
    rcu_read_lock();
    pos = rcu_dereference(head->first);
    if (!pos)
            return -ENOENT;             /* returns with rcu_read_lock() held */
    ```

    ## Use instead
    Leave the section on every path, typically through a common exit label, or use
    `guard(rcu)()` / `scoped_guard(rcu)` so the compiler ends it at scope exit.
    """

    rule = Rule(
        "rcu-unbalanced", "RcuUnbalanced",
        "RCU read-side lock and unlock do not pair on some path",
        level="warning", precision="high", cwe=("CWE-667", "CWE-764", "CWE-765"),
        tags=("concurrency", "rcu", "correctness"),
    )

    # what earlier branches had established when the outermost section was entered
    slot = Slot(frozenset(), frozenset.intersection)

    def __init__(self, run) -> None:
        super().__init__(run)
        self.enters: set[str] = set()
        self.released_ok: set[tuple] = set()
        # unlocks of a section this function took itself (not the caller's, re-taken)
        self.released_own: set[tuple] = set()
        self.underflows: dict[tuple, list] = {}
        self.returns: list[tuple] = []

    def on_section_enter(self, st, ev, fkey):
        if ev is not None:
            self.enters.add(fkey)
        if st.depth(fkey) == 1 and not any(d > 0 for k, d in st.held if k != fkey):
            return self.put(st, st.truths)
        return None

    def on_section_exit(self, st, ev, fkey) -> None:
        fl = self.run.flavours
        if fkey in fl.implicit:
            return
        d = st.depth(fkey)
        if d == UNKNOWN:
            return
        if d > 0:
            self.released_ok.add((ev.loc, fkey))
            if fkey not in st.borrowed:
                self.released_own.add((ev.loc, fkey))
            return
        other = fl.mismatched(st, fkey)
        if other is not None:
            origin = st.origin(other)
            where = f" entered at line {origin.line}" if origin else ""
            if fl.family(fkey) == fl.family(other) and fl.family(fkey) in fl.handled:
                msg = (f"{ev.callee}() releases {fkey.split(':', 1)[-1]} but the "
                       f"{fl.name(fl.family(other))} section held here{where} is on "
                       f"{other.split(':', 1)[-1]}")
            else:
                msg = (f"{ev.callee}() ends the {fl.name(other)} section{where}: "
                       f"flavour mismatch, expected {fl.unlock(other)}")
            self.report(ev.loc, msg, st)
            return
        self.underflows.setdefault((ev.loc, fkey), []).append((st, ev))

    def on_return(self, st, ev) -> None:
        value = ev.value
        ret = None
        if value is not None:
            ret = value.const if value.const is not None else st.const(value.text)
        self.returns.append((ev, st, ret))

    def on_end(self, exit_states) -> None:
        fl = self.run.flavours
        for (loc, fkey), entries in self.underflows.items():
            for st, ev in entries:
                name = f"{ev.callee}()"
                if fkey in st.entered:
                    self.report(loc, f"{name} with no {fl.name(fkey)} section held: "
                                "it was already left on this path (double unlock)", st)
                elif (loc, fkey) in self.released_own:
                    # the same unlock closes a section on other paths: the lock is conditional
                    self.report(loc, f"{name} with no matching lock on this path", st)
                # otherwise it releases the caller's section (perhaps to re-take it later)
                break
        self.check_exits()

    def check_exits(self) -> None:
        fl = self.run.flavours
        keys = {k for _, st, _ in self.returns for k, d in st.held if d > 0}
        for fkey in sorted(keys):
            if fkey in fl.implicit:
                continue
            # net nesting as the caller sees it: a section borrowed from the caller and
            # taken again is the caller's own
            held = [(ev, st, r) for ev, st, r in self.returns if _net(st, fkey) > 0]
            free = [(ev, st, r) for ev, st, r in self.returns if _net(st, fkey) == 0]
            releases_itself = any(k == fkey for _, k in self.released_ok)
            if not held or (not free and not releases_itself):
                continue  # returns holding the section on every path: the function's effect
            if free and (_explained_by_return(held, free)
                         or _explained_by_condition(held, free, self.slot_index)):
                continue
            if releases_itself or not any(fl.family(k) == fl.family(fkey) for k in self.enters):
                for ev, st, _ in held:
                    origin = st.origin(fkey)
                    where = f" entered at line {origin.line}" if origin else ""
                    self.report(ev.loc, f"{self.fn.name}() returns with the "
                                f"{fl.name(fkey)} section{where} still held on this "
                                "path", st)
            else:
                for ev, st, _ in free:
                    self.report(ev.loc, f"{self.fn.name}() returns without the "
                                f"{fl.name(fkey)} section here but holding it on other "
                                "paths", st)


def _net(st, fkey: str) -> int:
    d = st.depth(fkey)
    return d - 1 if d > 0 and fkey in st.borrowed else d


def _explained_by_condition(held, free, slot: int) -> bool:
    """The section is held exactly when a tested condition holds (`if (flags & RCU_MODE)`).

    Dual-mode code (namei's RCU walk, busy polling) takes RCU on one setting of a
    flag and returns holding it for a partner that tests the same flag.
    """
    common = None
    for _, st, _ in held:
        # only conditions under which the section was taken in the first place
        keys = {k for k, v in st.truths if (k, v) in st.slots[slot]}
        common = keys if common is None else common & keys
    # free paths either decided the condition the other way, or returned before testing it
    for key in common or ():
        hv = {v for _, st, _ in held for k, v in st.truths if k == key}
        fv = {v for _, st, _ in free for k, v in st.truths if k == key}
        if len(hv) == 1 and len(fv) <= 1 and hv != fv:
            return True
    return False


def _explained_by_return(held, free) -> bool:
    """Trylock-style: the return value says whether the section is held.

    A non-constant return on the held paths against NULL/0/false on the others is
    the "returns the locked object or NULL" shape.
    """
    hr = {r for _, _, r in held}
    fr = {r for _, _, r in free}
    if None in fr:
        return False
    if None in hr:
        return fr == {0}
    # true/1 with the section held, false/0 without; or 0 (success) held and -errno not
    held_true = all(r > 0 for r in hr) and all(r == 0 for r in fr)
    held_false = all(r == 0 for r in hr) and all(r < 0 for r in fr)
    return held_true or held_false
