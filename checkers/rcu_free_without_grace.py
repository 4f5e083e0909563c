"""rcu-free-without-grace: an object unpublished and freed with no grace period between."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from analyzer.ir import Rule
from checkers.base import Checker, Slot, register
from checkers.lifetime_util import obj_key, reset_names, value_key, without

_LAST_NAME = re.compile(r"(\w+)\W*$")


def index_name(text: str) -> str:
    """The name an index (xarray, idr) goes by: `&net->dev_by_index` → dev_by_index."""
    m = _LAST_NAME.search(text)
    return m.group(1) if m else text


# marks an RCU load that says no reader can reach the object any more
_SOLE = "\0sole"


def _sole(ev) -> bool:
    """`rcu_dereference_raw(p)`, `rcu_dereference_protected(p, 1)`: loads whose writer
    states that it alone has the object (teardown), not that a lock keeps readers out."""
    if ev.macro.endswith("_raw"):
        return True
    cond = ev.args[-1].strip("() ") if len(ev.args) > 1 else ""
    return ev.macro.endswith("_protected") and cond in ("1", "true")


@dataclass(frozen=True)
class _Facts:
    """Objects unpublished with no grace period since, and where each RCU load came from."""

    unpublished: frozenset[str] = frozenset()
    # (variable, the published location it was loaded from with an RCU accessor)
    loaded_from: frozenset[tuple[str, str]] = frozenset()
    # where each object was unpublished, for the message (not part of a path's identity)
    where: tuple = field(default=(), compare=False)

    def forget(self, names) -> _Facts:
        if not (self.unpublished or self.loaded_from):
            return self
        return _Facts(self.unpublished - set(names), without(self.loaded_from, names),
                      self.where)


def _join(a: _Facts, b: _Facts) -> _Facts:
    return _Facts(a.unpublished | b.unpublished, a.loaded_from & b.loaded_from,
                  a.where or b.where)


@register
class RcuFreeWithoutGrace(Checker):
    """
    ## What it finds
    An object removed from RCU readers' view — taken off an RCU list
    (`list_del_rcu()`, `hlist_del_rcu()`, …) or replaced in an RCU-published pointer
    (`old = rcu_dereference_protected(p, …); rcu_assign_pointer(p, new);`) — and then
    freed at once (`kfree()`, `kvfree()`, `kmem_cache_free()`, or a callee that frees
    its argument) with no `synchronize_rcu()` in between. Handing it to
    `kfree_rcu()`/`call_rcu()` is the deferred free that makes this correct.

    ## Why is this bad
    Unpublishing only stops new readers from finding the object; readers that found
    it before are still inside their read-side sections and will dereference it.
    Freeing it before a grace period has elapsed is a use-after-free in every such
    reader, one that lockdep and KASAN catch only when the race actually happens.

    ## Example
    ```c
    spin_lock(&pools_lock);
    list_del_rcu(&pool->list);
    spin_unlock(&pools_lock);
    kfree(pool);                        /* readers may still be walking it */
    ```

    ## Use instead
    `kfree_rcu(pool, rcu)` (or `call_rcu()` with a callback that frees), or
    `synchronize_rcu()` before the free when the caller may sleep.
    """

    rule = Rule(
        "rcu-free-without-grace", "RcuFreeWithoutGrace",
        "Object unpublished from RCU readers and freed with no grace period between",
        level="warning", precision="high", cwe=("CWE-416", "CWE-362"),
        tags=("memory-safety", "rcu", "lifetime"),
    )

    slot = Slot(_Facts(), _join)

    def __init__(self, run) -> None:
        super().__init__(run)
        # RCU loads by temporary: the published location each one read
        self.sources: dict[str, str] = {}

    def on_access(self, st, ev, am):
        self.sources[ev.result] = ev.ptr.text + (_SOLE if _sole(ev) else "")

    def on_call(self, st, ev, fm):
        if fm is None:
            return None
        held = self.run.flavours.holds(st, "rcu")
        if fm.returns_rcu is True and not fm.inferred and ev.args:
            # an index RCU readers look objects up in (xa_load(), idr_find()): under a
            # section here, or in a helper its callers call under one
            index = index_name(ev.args[0].text)
            self.run.emit(self.rule, ("rcu-lookup", index) if held else
                          ("rcu-lookup-in", index, self.run.context.node))
        elif fm.inferred and held:
            callee = self.run.context.resolve(ev.callee) if ev.callee else None
            if callee is not None:
                self.run.emit(self.rule, ("rcu-call", callee))
        if not (fm.frees is not None or fm.grace_period or fm.publishes or
                fm.unpublishes is not None or fm.defers_free is not None):
            return None
        facts = self.get(st)
        if fm.publishes is not None and max(fm.publishes) < len(ev.args):
            where, value = ev.args[fm.publishes[0]], ev.args[fm.publishes[1]]
            st = self.replaced(st, where.text, value, ev.loc)
            facts = self.get(st)
        if fm.frees is not None and fm.frees < len(ev.args):
            arg = ev.args[fm.frees]
            call, cfm = self.run.calls.get(arg.tmp, (None, None)) if arg.tmp else (None, None)
            if cfm is not None and cfm.returns_old and call.args:
                # `kvfree(xa_erase(&xa, i))`: freed as it comes off readers' view
                index = index_name(call.args[0].text) if cfm.publishes is None else None
                self.report(ev.loc, f"{ev.callee}() frees what {call.callee}() took off RCU "
                            "readers' view, with no grace period in between: RCU readers "
                            "may still hold it (use kfree_rcu() or synchronize_rcu() first)",
                            st, conditions=(("rcu-read", index),) if index else ())
            k = obj_key(st, arg)
            if k is not None and k in facts.unpublished:
                where = st.lookup(facts.where, k)
                how = f" by {where[2]} at line {where[1].line}" if where else ""
                # taken off an index: only if readers look it up there under RCU
                index = where[3] if where and len(where) > 3 else None
                self.report(ev.loc, f"{ev.callee}() frees `{k}`, unpublished{how}, with no "
                            "grace period in between: RCU readers may still hold it (use "
                            "kfree_rcu() or synchronize_rcu() first)", st,
                            conditions=(("rcu-read", index),) if index else ())
        unpublished, where = facts.unpublished, facts.where
        if fm.grace_period:
            unpublished = frozenset()
        if fm.unpublishes is not None and fm.unpublishes < len(ev.args):
            k = obj_key(st, ev.args[fm.unpublishes])
            if k is not None:
                unpublished |= {k}
                where = (*where, (k, ev.loc, f"{ev.callee}()"))
        for index in (fm.frees, fm.defers_free):
            if index is not None and index < len(ev.args):
                unpublished -= {obj_key(st, ev.args[index])}
        return self.put(st, _Facts(unpublished, facts.loaded_from, where))

    def replaced(self, st, where: str, value, loc):
        """Publishing a new value (or NULL) unpublishes the one RCU readers could see
        there."""
        facts = self.get(st)
        null = value.is_null or (value.kind == "var" and st.const(value.text) == 0)
        # storing NULL unpublishes the old value just the same, unless it was loaded as
        # nobody else's any more (teardown: `rcu_dereference_raw()`, a condition of 1)
        replaced = {v for v, src in facts.loaded_from
                    if src == where or (src == where + _SOLE and not null)}
        if not replaced:
            return st
        old = {st.alias(v) or v for v in replaced} - {value_key(st, value)}
        return self.put(st, _Facts(
            facts.unpublished | old, facts.loaded_from,
            (*facts.where, *((k, loc, f"the store to `{where}`") for k in sorted(old)))))

    def on_assign(self, st, ev):
        target, value = ev.target, ev.value
        if target.kind != "var":
            return self.replaced(st, target.text, value, ev.loc) if ev.ptr else None
        facts = self.get(st).forget(reset_names(ev))
        source = self.sources.get(value.tmp) if value.tmp else None
        if source is not None:
            facts = _Facts(facts.unpublished, facts.loaded_from | {(target.text, source)},
                           facts.where)
        call, fm = self.run.calls.get(value.tmp, (None, None)) if value.tmp else (None, None)
        if fm is not None and fm.returns_old:
            # `old = rcu_replace_pointer(...)`, `old = xa_erase(...)`: off readers' view
            index = index_name(call.args[0].text) if fm.publishes is None and call.args \
                else None
            facts = _Facts(facts.unpublished | {target.text}, facts.loaded_from,
                           (*facts.where, (target.text, ev.loc, f"{call.callee}()", index)))
        return self.put(st, facts)

    @classmethod
    def resolve(cls, findings, facts):
        """An object taken off an index was reachable by RCU readers only if some analysed
        code looks objects up in an index of that name inside a read-side section (its
        own, or its caller's: a lookup helper called under one)."""
        called = {f[1] for _, f in facts if f[0] == "rcu-call"}
        read = {f[1] for _, f in facts if f[0] == "rcu-lookup"} | \
            {f[1] for _, f in facts if f[0] == "rcu-lookup-in" and f[2] in called}
        return [f for f in findings
                if all(c[0] != "rcu-read" or c[1] in read for c in f.conditions)]

    def on_walk(self, st, ev, wm):
        return self.put(st, self.get(st).forget(reset_names(ev)))

    def on_dead(self, st, ev):
        return self.put(st, self.get(st).forget(reset_names(ev)))
