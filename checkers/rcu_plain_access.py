"""rcu-plain-access: an RCU-shared pointer read or written without the RCU accessors."""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.ir import Rule
from checkers.base import Checker, register

UPDATE_LOCK = exception(
    "rcu-plain-access.update-lock-held", "rcu-plain-access",
    "a plain read inside a read-side section with a spinlock also held is a note",
    """The update side may read an RCU-shared pointer under its own lock with a plain
    load (Documentation/RCU/rcu_dereference.rst: rcu_dereference_protected() is the
    documented form, but plain reads under the update-side lock are common and
    correct).  When a spinlock is held inside the section the analysis cannot tell
    whether it is that lock.""",
    "rcu_plain_access.c:table_best_metric_locked_reader",
    "rcu_plain_access.c:table_best_metric", effect="demotes")


@register
class RcuPlainAccess(Checker):
    """
    ## What it finds
    A pointer that RCU readers share, read or written plainly instead of through
    `rcu_dereference*()`, `rcu_access_pointer()`, `rcu_assign_pointer()`,
    `RCU_INIT_POINTER()` or `rcu_replace_pointer()`. A pointer is RCU-shared when its
    declaration says `__rcu` (read from the declaration's tokens: the attribute
    expands to nothing outside sparse), or when the same file reads or publishes it
    through an accessor elsewhere; the finding says which. Each element of an array
    of RCU-shared pointers is one too (`void __rcu *revmap[]`, `struct file __rcu
    **fd`: `domain->revmap[hwirq]`, `fdt->fd[fd]`). A plain write of a
    non-NULL value is reported, unless the object written to is not yet published
    (allocated here, or published by this function further on) or the value was
    itself loaded through an accessor (a move: RCU_INIT_POINTER()'s third case). A
    plain read inside a read-side section is reported (a note when a spinlock is held
    too: it may be the update side's). One outside any section is reported, with
    medium confidence, when the pointer is declared `__rcu` (the update side, under
    the writer's lock, is to say so with `rcu_dereference_protected()`; sparse reports
    the address-space mismatch as well), and not otherwise: the kernel reads its
    update-side pointers plainly under their lock all the time. Storing NULL,
    testing the pointer (or an array's element) for NULL or comparing it — what the
    test loads on the way to it is still read — taking its address, moving it from one
    RCU-shared location to another (`*pp = n->next`, both `__rcu`: sparse sees one
    address space), and uses inside other macros' arguments are not reported.

    ## Why is this bad
    A plain store lets the compiler and the CPU publish the pointer before the
    object's initialisation is visible: a reader follows it into uninitialised
    memory. A plain load lets the compiler reload or fuse the value, or, on the read
    side, skip the dependency ordering `rcu_dereference()` provides; it also hides
    from lockdep and sparse what protects the access.

    ## Example
    ```c
    struct cfg __rcu *cur;

    new->weight = w;
    t->cur = new;                       /* readers may see new before new->weight */
    ```

    ## Use instead
    `rcu_assign_pointer(t->cur, new)` to publish; `rcu_dereference(t->cur)` inside a
    reader; `rcu_dereference_protected(t->cur, lockdep_is_held(&t->lock))` on the
    update side; `rcu_access_pointer(t->cur)` when only the pointer value is needed.
    See Documentation/RCU/rcu_dereference.rst and Documentation/RCU/checklist.rst.
    """

    rule = Rule(
        "rcu-plain-access", "RcuPlainAccess",
        "RCU-shared pointer read or written without the RCU accessors",
        level="warning", precision="medium", cwe=("CWE-362",),
        tags=("concurrency", "rcu", "correctness"),
        path=("branch", "section"),
    )

    def on_plain(self, st, ev) -> None:
        if ev.kind == "write":
            if not ev.fresh:  # initialising an object nobody else can see yet is fine
                self.report(ev.loc, f"`{ev.text}` ({ev.why}) is assigned plainly: RCU "
                            "readers may see the pointer before what it points to (use "
                            "rcu_assign_pointer(), or RCU_INIT_POINTER() before it is "
                            "published)", st, obj=ev.text)
            return
        fl = self.run.flavours
        if fl.held_explicit(st):
            # with a lock held as well (spin_lock() and friends), the lock may be what
            # protects the read: the update side reading under its own lock
            locked = any(k in fl.implicit and d > 0 for k, d in st.held)
            self.report(ev.loc, f"`{ev.text}` ({ev.why}) is read plainly inside an RCU "
                        "read-side section: use rcu_dereference()" +
                        (", or rcu_dereference_protected() if the lock held here is "
                         "the update side's" if locked else ""), st, obj=ev.text,
                        demote=UPDATE_LOCK if locked else None)
        elif ev.why.startswith("declared __rcu"):
            # Fields RCU-shared only by use are read plainly under their update-side
            # lock all over the kernel; the `__rcu` declaration is what asks for more.
            # Medium confidence: it may be the update side under its lock, which should
            # say so (measured, a note here hid real bugs and removed no false alarm).
            self.report(ev.loc, f"`{ev.text}` ({ev.why}) is read plainly: say what "
                        "protects it (rcu_dereference_protected() under the update-side "
                        "lock)", st, obj=ev.text, confidence="medium")
