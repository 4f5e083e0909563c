"""rcu-weak-ref-escape: an RCU pointer stored where it outlives its section, unreferenced."""

from __future__ import annotations

from analyzer.ir import Rule
from checkers.base import Checker, register
from checkers.lifetime_util import is_local, loaded_at, protected


@register
class RcuWeakRefEscape(Checker):
    """
    ## What it finds
    A pointer obtained inside an RCU read-side section stored into something that
    outlives the section — a field of a structure reached through a pointer, a
    global or static variable — without a reference on the object. This is a weak
    reference: the object may be freed once the section ends, so every later use
    must first invalidate or revalidate it.

    Reported at `note` level: weak references are sometimes deliberate (the memcg
    reclaim iterator keeps its position this way and clears it on cgroup destruction,
    see invalidate_reclaim_iterators() in mm/memcontrol.c and the review of "memcg:
    remove memcg from the reclaim iterators", linux-mm, February 2013); the finding
    asks for that mechanism to exist.

    ## Why is this bad
    The stored pointer survives the grace period that frees the object. Unless
    every reader revalidates it (a generation or dead-count cookie checked under
    RCU, a tryget that can fail) or the destroyer clears it before the free, a later
    reader dereferences freed memory.

    ## Example
    ```c
    rcu_read_lock();
    pos = css_next_descendant_pre(prev, root);
    iter->position = pos;               /* no reference: must be invalidated */
    rcu_read_unlock();
    ```

    ## Use instead
    Take a reference and store it (drop the old one), or keep the weak pointer but
    invalidate it on destruction (as `invalidate_reclaim_iterators()` does) and
    revalidate with a tryget before use.
    """

    rule = Rule(
        "rcu-weak-ref-escape", "RcuWeakRefEscape",
        "RCU-protected pointer stored beyond its section without a reference",
        level="note", precision="medium", cwe=("CWE-416", "CWE-825"),
        tags=("rcu", "lifetime"),
    )

    def on_assign(self, st, ev) -> None:
        value, target = ev.value, ev.target
        if value.kind != "var" or target.kind not in ("field", "global", "deref"):
            return
        name = value.text
        p = st.ptr(name)
        if p is None or p[0] != "rcu" or p[1] or protected(st, name):
            return
        root = target.root
        if target.kind == "field" and is_local(self.fn, root) and \
                target.text.startswith(f"{root}."):
            return  # a field of a local structure lives no longer than the function
        self.report(ev.loc, f"`{name}`{loaded_at(st, name)} is stored in `{target.text}` "
                    "without a reference: the stored pointer outlives the RCU section and "
                    "must be invalidated or revalidated (tryget) before use", st, obj=name)
