"""ref-unchecked-tryget: a tryget whose failure is ignored."""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.ir import Rule
from checkers.base import Checker, register
from checkers.lifetime_util import ref_key

KEPT_ELSEWHERE = exception(
    "ref-unchecked-tryget.ignored-outside-rcu", "ref-unchecked-tryget",
    "an ignored tryget outside any read-side section, on an object not found under RCU, "
    "is a note",
    """A tryget fails when the object is dying, which only a reader that found it under
    RCU can see: an object the function was given, or found in a table its lock keeps
    (ceph's sessions under `mdsc->mutex`, sctp's transports its caller holds), is alive
    because something else holds it, and the ignored result states the caller's belief
    that the count cannot be zero.  The analysis does not check that belief (it does not
    model which lock or reference keeps the object), so the finding is a note that asks
    the question.  A tryget the model says fails on a state of the object's owner
    (`try_module_get()` while the module is going away) is out of it.""",
    "ref_unchecked_tryget.c:sess_table_kick", "ref_unchecked_tryget.c:sess_ref_ignored",
    effect="demotes")


@register
class RefUncheckedTryget(Checker):
    """
    ## What it finds
    A tryget (`css_tryget()`, `css_tryget_online()`, `obj_cgroup_tryget()`,
    `shrinker_try_get()`, `refcount_inc_not_zero()`, `kref_get_unless_zero()`,
    `percpu_ref_tryget()` …) whose result is thrown away, or an object used on the
    branch where its tryget failed: put, got unconditionally, or — when it was found
    under RCU — dereferenced after the read-side section ended (an object the function
    was given is kept alive by its caller, whatever a tryget on a count inside it says).
    An ignored tryget outside any read-side section, on an object not found under RCU
    (one a lock or the caller keeps), is a note: its failure is possible only if what
    keeps the object does not, which the analysis does not check.  Not so a tryget
    that fails on a state rather than a zero count (`try_module_get()` once the module
    is going away): ignoring it is a warning wherever it is.

    ## Why is this bad
    A tryget fails exactly when the object is dying: its count already reached zero
    and it will be freed after the grace period. Ignoring the failure means using an
    object nobody keeps alive, and a put on the failure branch drops a reference
    that was never taken.

    ## Example
    ```c
    css_tryget(&memcg->css);            /* result ignored */
    rcu_read_unlock();
    use(memcg);
    css_put(&memcg->css);
    ```

    ## Use instead
    `if (!css_tryget(&memcg->css)) goto retry_or_skip;` — and on the failure branch
    touch the object only inside the read-side section, never put it.
    """

    rule = Rule(
        "ref-unchecked-tryget", "RefUncheckedTryget",
        "Tryget result ignored, or the object used where the tryget failed",
        level="warning", precision="high", cwe=("CWE-252", "CWE-416"),
        tags=("refcount", "memory-safety"),
    )

    def on_call(self, st, ev, fm) -> None:
        if fm is None:
            return
        if fm.tryget is not None and ev.discarded:
            a = ev.args[fm.tryget] if fm.tryget < len(ev.args) else None
            k = ref_key(st, a, fm) if a is not None else None
            found_under_rcu = k is not None and st.ptr(k) is not None
            # (a tryget that fails on its owner's state, `try_module_get()`, can fail
            # whatever keeps the object)
            kept = not self.run.in_section(st) and not found_under_rcu and \
                not fm.fails_on_state
            self.report(ev.loc, f"the result of {ev.callee}() is ignored: the reference may "
                        "not have been taken", st, obj=ev.result,
                        demote=KEPT_ELSEWHERE if kept else None)
            return
        for idx, what in ((fm.put, "drops a reference on"), (fm.get, "takes a reference on")):
            if idx is None or idx >= len(ev.args):
                continue
            k = ref_key(st, ev.args[idx], fm)
            if k is not None and k in st.failed and st.refcount(k) == 0:
                self.report(ev.loc, f"{ev.callee}() {what} `{k}` on the branch where its "
                            "tryget failed", st, obj=k)

    def on_deref(self, st, ev) -> None:
        p = ev.ptr
        # (only an object found under RCU is left to the grace period when its tryget
        # fails: one the function was given or found otherwise is kept by its holder,
        # and a tryget on a count inside it, `percpu_ref_tryget_live(&c->writes)`, says
        # nothing of its life)
        if p.kind == "var" and p.text in st.failed and not self.run.in_section(st) \
                and st.refcount(p.text) == 0 and st.ptr(p.text) is not None:
            self.report(ev.loc, f"`{p.text}` is dereferenced outside RCU on the branch where "
                        "its tryget failed", st, obj=p.text)
