"""rcu-sleep-in-reader: a call that may sleep inside an RCU read-side section."""


from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.ir import Rule
from checkers.base import Checker, register

# rcu-callback-context reports a sleep found more calls down than this as a note: each
# call on the way may guard it with a condition the callback never meets.  (A reader's
# deep sleep is a warning: measured, the note hid a real bug and removed no false alarm.)
DEEP_CHAIN = 3

MAYBE = exception(
    "rcu-sleep-in-reader.sleeps-for-some-memory", "rcu-sleep-in-reader",
    "a call that sleeps only for some memory (kvfree()) is a note",
    """kvfree() and its kin sleep only when the memory is vmalloc'ed
    (mm/util.c: kvfree() calls vfree(), which may sleep, only for
    is_vmalloc_addr()); a kmalloc'ed buffer is freed without sleeping.  Whether the
    memory is vmalloc'ed depends on its size at allocation, which the analysis does
    not follow.""",
    "rcu_sleep_in_reader.c:job_table_swap", "rcu_sleep_in_reader.c:job_clone",
    effect="demotes")


@register
class RcuSleepInReader(Checker):
    """
    ## What it finds
    A call that may block — `mutex_lock()`, `msleep()`, `cond_resched()`,
    `wait_for_completion()`, an allocation whose gfp mask allows direct reclaim
    (`GFP_KERNEL`, `GFP_NOFS`, …) — made while an `rcu_read_lock()`,
    `rcu_read_lock_bh()` or `rcu_read_lock_sched()` section is held. A
    `synchronize_rcu()` or `rcu_barrier()` there is reported as a deadlock, as is
    `synchronize_srcu()` inside a reader of the same `srcu_struct`.

    Sleeps are found through callees too (function summaries), and the finding
    shows the chain of calls. A sleep more than three calls down is reported at
    `note` level: every call on the way may guard it with a condition the caller
    never meets. So is `kvfree()`, directly or down a chain: it sleeps only for
    vmalloc'ed memory, and memory that `kvmalloc()` took with an atomic mask never
    is. A callee that releases its caller's section before sleeping and
    takes it again (`rcu_read_unlock(); cond_resched(); rcu_read_lock();`) is fine.

    ## Why is this bad
    Vanilla RCU readers must not block: a grace period cannot end while a reader
    sleeps, so reclaim stalls, and with CONFIG_PREEMPT_RCU=n a context switch inside
    the section is a quiescent state — the objects the reader is using may be freed
    under it. `synchronize_rcu()` inside a reader waits for that very reader to
    finish: it never returns.

    ## Example
    ```c
    rcu_read_lock();
    memcg = mem_cgroup_from_task(p);
    buf = kmalloc(size, GFP_KERNEL);      /* may enter direct reclaim and sleep */
    rcu_read_unlock();
    ```

    ## Use instead
    Take a reference (`css_tryget()`), leave the section, then sleep; or allocate
    with `GFP_NOWAIT`/`GFP_ATOMIC` and handle failure; or allocate before
    `rcu_read_lock()`. Sleepable readers need SRCU.
    """

    rule = Rule(
        "rcu-sleep-in-reader", "RcuSleepInReader",
        "A call that may sleep inside an RCU read-side section",
        level="warning", precision="high", cwe=("CWE-667", "CWE-833"),
        tags=("concurrency", "rcu", "correctness"),
        path=("branch", "section"),
    )

    def on_call(self, st, ev, fm) -> None:
        if fm is None:
            return
        fl = self.run.flavours
        held = fl.held_explicit(st)
        if fm.waits_gp in fl.vanilla and held:
            fkey, origin = held
            self.report(ev.loc, f"{ev.callee}() inside the {fl.name(fkey)} read-side "
                        f"section{_since(origin)} waits for a grace period that cannot end "
                        "until this reader exits: deadlock", st, obj=fkey)
            return
        if fm.waits_gp in fl.handled:
            handle = self.run.handle_of(ev, fm)
            key = fl.key(fm.waits_gp, handle) if handle else None
            if key and st.depth(key) > 0:
                self.report(ev.loc, f"{ev.callee}({handle}) inside a reader of the same "
                            f"srcu_struct{_since(st.origin(key))} waits for itself: deadlock", st,
                            obj=key)
                return
            # another srcu_struct's grace period: it still sleeps, which an RCU reader
            # must not (an SRCU reader may)
        if fm.sleeps_outside_caller_rcu and fm.inferred:
            return  # the callee drops the caller's section before it sleeps
        if held and self.run.call_may_sleep(ev, fm, st):
            fkey, origin = held
            why, demote, confidence = "", None, "high"
            if fm.sleeps == "gfp" and fm.gfp is not None and fm.gfp < len(ev.arg_text):
                why = f" ({ev.arg_text[fm.gfp].strip()} allows direct reclaim)"
            elif fm.inferred and fm.why:
                why = " (it calls " + ", which calls ".join(fm.why) + ")"
                if len(fm.why) > DEEP_CHAIN:
                    confidence = "medium"  # conditions on the way are not kept
            if fm.sleeps_maybe:
                demote = MAYBE
            self.report(ev.loc, f"{ev.callee}() may sleep{why} inside the "
                        f"{fl.name(fkey)} read-side section{_since(origin)}", st, obj=fkey,
                        demote=demote, confidence=confidence if demote is None else "low")


def _since(origin) -> str:
    return f" entered at line {origin.line}" if origin is not None else ""
