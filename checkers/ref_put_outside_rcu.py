"""ref-put-outside-rcu: an RCU walk's cursor put outside the section the walk needs."""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.ir import Rule
from checkers.base import Checker, Slot, register
from checkers.lifetime_util import ref_key, reset_names


@dataclass(frozen=True)
class _Puts:
    """Walk cursors whose reference was dropped outside RCU, and where (for the message)."""

    cursors: frozenset[str] = frozenset()
    where: tuple = field(default=(), compare=False)


def _join(a: _Puts, b: _Puts) -> _Puts:
    """Put on every path that arrives (where: the first path's)."""
    return _Puts(a.cursors & b.cursors, a.where or b.where)


@register
class RefPutOutsideRcu(Checker):
    """
    ## What it finds
    The cursor of an RCU list walk (`list_for_each_entry_rcu()` and friends) whose
    reference is dropped while no read-side section is held, when the walk then goes
    on to the next element through that same cursor. The put must happen after the
    section is re-entered.

    A put outside RCU where nothing walks on through the object — a bitmap or ID
    walk, or a walk that restarts from the head — is correct and not reported.

    ## Why is this bad
    The reference was what kept the cursor alive across the unlocked window. Once
    it is dropped outside RCU, a concurrent final put can free the element before
    the walk reads `cursor->list.next`: the walk follows a freed node
    (Documentation/RCU/listRCU.rst). This is the review comment on the global
    shrinker walk in "mm: shrinker: make memcg slab shrink lockless"
    (https://lore.kernel.org/linux-mm/?q=s%3A%22make+memcg+slab+shrink+lockless%22): "the global
    shrinker has to hold the rcu_read_lock() whilst calling shrinker_put() to
    guarantee the validity of the list next pointer".

    ## Example
    ```c
    list_for_each_entry_rcu(shrinker, &shrinker_list, list) {
            if (!shrinker_try_get(shrinker))
                    continue;
            rcu_read_unlock();
            ret = do_shrink_slab(&sc, shrinker, priority);
            shrinker_put(shrinker);         /* outside RCU */
            rcu_read_lock();
    }
    ```

    ## Use instead
    Re-enter the section first, then put: `rcu_read_lock(); shrinker_put(shrinker);`
    — the section keeps the element (and its next pointer) valid until the walk has
    moved on.
    """

    rule = Rule(
        "ref-put-outside-rcu", "RefPutOutsideRcu",
        "Reference on an RCU walk's cursor dropped outside the section the walk relies on",
        level="warning", precision="high", cwe=("CWE-416", "CWE-362"),
        tags=("memory-safety", "rcu", "refcount"),
    )

    slot = Slot(_Puts(), _join)

    def on_call(self, st, ev, fm):
        if fm is None or fm.put is None or fm.put >= len(ev.args) or self.run.in_section(st):
            return None
        a = ev.args[fm.put]
        k = ref_key(st, a, fm)
        name = a.root if a.kind == "var" else None
        cursor = name if name in st.walks else (k if k in st.walks else None)
        if cursor is None:
            return None
        puts = self.get(st)
        return self.put(st, _Puts(puts.cursors | {cursor},
                                  (*puts.where, (cursor, ev.loc, f"{ev.callee}()"))))

    def forget(self, st, ev):
        puts = self.get(st)
        gone = puts.cursors & set(reset_names(ev))
        return self.put(st, _Puts(puts.cursors - gone, puts.where)) if gone else None

    def on_walk(self, st, ev, wm):
        puts = self.get(st)
        put = st.lookup(puts.where, ev.cursor.text) if ev.cursor.text in puts.cursors else None
        if ev.step and put is not None:
            where = f" at line {st.section_end.line}" if st.section_end is not None else ""
            self.report(put[1], f"{put[2]} drops the reference on `{ev.cursor.text}` outside "
                        f"the RCU read-side section (left{where}), but the {ev.macro}() walk "
                        f"at line {ev.loc.line} continues from `{ev.cursor.text}`: put it "
                        "after rcu_read_lock()", st, obj=ev.cursor.text,
                        notes=[(ev.loc, f"the walk advances from `{ev.cursor.text}` here")])
        return self.forget(st, ev)

    def on_assign(self, st, ev):
        return self.forget(st, ev)

    def on_dead(self, st, ev):
        return self.forget(st, ev)
