"""rcu-free-without-grace: an object unpublished and freed with no grace period between."""

from __future__ import annotations

from analyzer.findings import Rule
from checkers.base import Checker, register
from checkers.lifetime_util import obj_key


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

    def on_call(self, st, ev, fm) -> None:
        if fm is None or fm.frees is None or fm.frees >= len(ev.args):
            return
        k = obj_key(st, ev.args[fm.frees])
        if k is None or k not in st.unpublished:
            return
        where = st.lookup(st.unpub_locs, k)
        how = f" by {where[2]} at line {where[1].line}" if where else ""
        self.report(ev.loc, f"{ev.callee}() frees `{k}`, unpublished{how}, with no grace "
                    "period in between: RCU readers may still hold it (use kfree_rcu() or "
                    "synchronize_rcu() first)", st)
