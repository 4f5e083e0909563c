"""ref-get-unsafe: an unconditional get on an object found under RCU."""

from __future__ import annotations

from analyzer.ir import Rule
from checkers.base import Checker, register
from checkers.lifetime_util import loaded_at, ref_key


@register
class RefGetUnsafe(Checker):
    """
    ## What it finds
    An unconditional get (`css_get()`, `obj_cgroup_get()`, `refcount_inc()`,
    `kref_get()` …) on an object this function found under RCU — through
    `rcu_dereference()`, an RCU list walk or an RCU lookup — when no other reference
    on it is visible on this path.

    ## Why is this bad
    Under RCU an object may be dying: its count reached zero and it waits for the
    grace period to be freed. An unconditional get resurrects it; after the grace
    period it is freed anyway and the new reference points to freed memory. Only a
    tryget can tell a live object from a dying one.

    Objects pinned by something the analyzer cannot see (an ancestor pinned by its
    child, a reference owned by a charged folio) are safe; those are usually reached
    second hand and are not reported.

    ## Example
    ```c
    rcu_read_lock();
    memcg = mem_cgroup_from_task(p);
    css_get(&memcg->css);               /* memcg may be offline and dying */
    rcu_read_unlock();
    ```

    ## Use instead
    `if (!css_tryget(&memcg->css))` retry or give up — or document the reference
    that pins it.
    """

    rule = Rule(
        "ref-get-unsafe", "RefGetUnsafe",
        "Unconditional get on an object found under RCU that may be dying",
        level="warning", precision="medium", cwe=("CWE-416",),
        tags=("refcount", "rcu", "memory-safety"),
    )

    def on_call(self, st, ev, fm) -> None:
        if fm is None or fm.get is None or fm.get >= len(ev.args):
            return
        a = ev.args[fm.get]
        k = ref_key(st, a, fm)
        name = a.root
        if k is None or not name or st.refcount(k) > 0:
            return
        p = st.ptr(name) or st.ptr(k)
        if p is None or p[0] != "rcu" or p[1]:
            return
        name = name if st.ptr(name) else k
        self.report(ev.loc, f"{ev.callee}() on `{name}`{loaded_at(st, name)}, found under "
                    "RCU, may resurrect a dying object: use a tryget and check it", st)
