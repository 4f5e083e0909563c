"""ref-put-outside-rcu: an RCU walk's cursor put outside the section the walk needs."""

from __future__ import annotations

from analyzer.findings import Rule
from checkers.base import Checker, register


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
    the walk reads `cursor->list.next`: the walk follows a freed node. This is the
    review comment on seed 004's global shrinker walk: "the global shrinker has to
    hold the rcu_read_lock() whilst calling shrinker_put() to guarantee the
    validity of the list next pointer".

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

    def on_walk(self, st, ev, wm) -> None:
        if not ev.step or ev.cursor.text not in st.put_cursors:
            return
        put = st.lookup(st.put_locs, ev.cursor.text)
        if put is None:
            return
        where = f" at line {st.section_end.line}" if st.section_end is not None else ""
        self.report(put[1], f"{put[2]} drops the reference on `{ev.cursor.text}` outside the "
                    f"RCU read-side section (left{where}), but the {ev.macro}() walk at line "
                    f"{ev.loc.line} continues from `{ev.cursor.text}`: put it after "
                    "rcu_read_lock()", st, notes=[(ev.loc, f"the walk advances from "
                                                           f"`{ev.cursor.text}` here")])
