"""rcu-callback-context: an RCU callback that may sleep."""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.ir import Rule
from checkers.base import Checker, register
from checkers.rcu_sleep_in_reader import DEEP_CHAIN

DEEP = exception(
    "rcu-callback-context.deep-chain", "rcu-callback-context",
    f"a callback whose sleep is found more than {DEEP_CHAIN} calls down is a note",
    """As for rcu-sleep-in-reader.deep-chain: a summary that says a callee may sleep
    keeps none of the conditions under which it does, and each level of the chain may
    reach the sleep only on a path the callback never takes (a teardown callback
    whose mutex is taken only when the object was registered).""",
    "rcu_callback_context.c:cfg_release_deep", "rcu_callback_context.c:cfg_release_helper",
    effect="demotes")


@register
class RcuCallbackContext(Checker):
    """
    ## What it finds
    A function handed to `call_rcu()` (or `call_rcu_hurry()`, `call_srcu()`,
    `call_rcu_tasks()`: their callbacks run with bottom halves disabled) as the
    callback, or to `percpu_ref_init()` as the release ("@release must not sleep - it
    may potentially be called from RCU callback context by percpu_ref_kill()",
    lib/percpu-refcount.c), whose body — directly or through its callees — may
    sleep: takes a mutex or rwsem, waits for
    a completion or a work item, allocates with `GFP_KERNEL`, calls
    `synchronize_rcu()`. `vfree()`/`kvfree()` are not reported: they defer the work
    themselves when called from interrupt context.

    ## Why is this bad
    RCU callbacks run from softirq context (or from an rcuo kthread with BH disabled
    on `CONFIG_RCU_NOCB_CPU`): they must not block (Documentation/RCU/checklist.rst,
    on callback context). Moving the whole free of a memory cgroup into an RCU
    callback ("memcg: execute the whole memcg freeing in rcu callback", linux-mm,
    September 2012) had this shape: part of the teardown needed process context.

    ## Example
    ```c
    static void cfg_free_rcu(struct rcu_head *head)
    {
            struct cfg *c = container_of(head, struct cfg, rcu);

            mutex_lock(&cfg_mutex);     /* may sleep in softirq context */
            list_del(&c->all);
            mutex_unlock(&cfg_mutex);
            kfree(c);
    }
    ...
    call_rcu(&c->rcu, cfg_free_rcu);
    ```

    ## Use instead
    Do the sleeping part before `call_rcu()`, or use `queue_rcu_work()` so that the
    callback runs from a workqueue in process context after the grace period.
    """

    rule = Rule(
        "rcu-callback-context", "RcuCallbackContext",
        "RCU callback that may sleep or needs process context",
        level="warning", precision="high", cwe=("CWE-667",),
        tags=("concurrency", "rcu", "correctness"),
        path=("branch",),
    )

    def on_call(self, st, ev, fm) -> None:
        if fm is None or fm.callback is None or fm.callback >= len(ev.args):
            return
        cb = ev.args[fm.callback]
        if cb.kind != "func":
            return
        cbfm = self.run.model_for(cb.text)
        if cbfm is None or cbfm.sleeps not in (True,) or cbfm.sleeps_when:
            return
        why = " (it calls " + ", which calls ".join(cbfm.why) + ")" if cbfm.why else ""
        deep = len(cbfm.why) > DEEP_CHAIN
        self.report(ev.loc, f"{cb.text}() runs from {ev.callee}() in softirq context but may "
                    f"sleep{why}", st, obj=cb.text, demote=DEEP if deep else None,
                    confidence="low" if deep else "high")
