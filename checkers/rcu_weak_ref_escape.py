"""rcu-weak-ref-escape: an RCU pointer stored where it outlives its section, unreferenced."""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.ir import Call, Rule
from checkers.base import Checker, register
from checkers.lifetime_util import is_local, loaded_at, protected

WEAK_BY_DESIGN = exception(
    "rcu-weak-ref-escape.weak-by-design", "rcu-weak-ref-escape",
    "an unreferenced RCU pointer stored into a field the function does not count "
    "references of is a note",
    """Weak references are sometimes deliberate: the memcg reclaim iterator keeps its
    position so and clears it on cgroup destruction (invalidate_reclaim_iterators() in
    mm/memcontrol.c; "memcg: remove memcg from the reclaim iterators", linux-mm,
    February 2013).  The finding asks for that mechanism; a field the function drops
    references of has none.""",
    "rcu_weak_ref_escape.c:iter_next_weak", "rcu_weak_ref_escape.c:tterm_set_pgrp",
    effect="demotes")


@register
class RcuWeakRefEscape(Checker):
    """
    ## What it finds
    A pointer obtained inside an RCU read-side section stored into something that
    outlives the section — a field of a structure reached through a pointer, a
    global or static variable — without a reference on the object. This is a weak
    reference: the object may be freed once the section ends, so every later use
    must first invalidate or revalidate it.

    A field this function drops a reference of (`put_pid(tty->pgrp); tty->pgrp =
    pgrp;`) holds counted references: storing an unreferenced pointer there is a
    warning, since the next put of the field drops a reference nobody took.
    Otherwise it is reported at `note` level (the registered exception
    `rcu-weak-ref-escape.weak-by-design`): weak references are sometimes deliberate
    (the memcg reclaim iterator keeps its position this way and clears it on cgroup destruction,
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
        level="warning", precision="medium", cwe=("CWE-416", "CWE-825"),
        tags=("rcu", "lifetime"),
    )

    def __init__(self, run) -> None:
        super().__init__(run)
        # the fields (root, access path) this function puts, with the line of the put
        self.counted: dict[tuple, int] = {}
        for b in self.fn.blocks:
            for ev in b.events:
                if not isinstance(ev, Call) or not ev.callee:
                    continue
                fm = run.model_for(ev.callee, ev.not_a_put)
                if fm is not None and fm.put is not None and fm.put < len(ev.args):
                    a = ev.args[fm.put]
                    if a.kind == "field" and a.path:
                        self.counted.setdefault((a.root, a.path), ev.loc.line)

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
        put = self.counted.get((target.root, target.path)) if target.path else None
        if put is not None:
            self.report(ev.loc, f"`{name}`{loaded_at(st, name)} is stored in `{target.text}` "
                        f"without a reference, but the field holds counted references (this "
                        f"function drops one at line {put}): the next put of it drops a "
                        "reference nobody took, while the object may be freed once the "
                        "section ends", st, obj=name)
            return
        self.report(ev.loc, f"`{name}`{loaded_at(st, name)} is stored in `{target.text}` "
                    "without a reference: the stored pointer outlives the RCU section and "
                    "must be invalidated or revalidated (tryget) before use", st, obj=name,
                    demote=WEAK_BY_DESIGN)
