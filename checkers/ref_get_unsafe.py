"""ref-get-unsafe: an unconditional get on an object found under RCU."""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.ir import Rule
from checkers.base import Checker, register
from checkers.lifetime_util import loaded_at, ref_key

LOCKED = exception(
    "ref-get-unsafe.lookup-under-lock", "ref-get-unsafe",
    "a get on an object looked up under a lock, with no RCU read-side section taken",
    """`spin_lock(&list_lock); p = rcu_dereference(head->next); if (p) kref_get(
    &p->ref);`: the section is only the one a spinlock implies; the load is protected by
    the lock, and an object the structure still links under that lock has the
    structure's reference, so the get cannot resurrect it.  (A lookup such as
    `idr_find()` under the lock returns no RCU pointer at all: see
    rcu-use-after-unlock.lookup-under-lock; drm_syncobj_find().)  A load inside
    rcu_read_lock() is the RCU idiom, and needs a tryget.""",
    "ref_get_unsafe.c:peer_next_get_locked", "ref_get_unsafe.c:peer_next_get")

TASK_CGROUP = exception(
    "ref-get-unsafe.task-cgroup-walked", "ref-get-unsafe",
    "a get on a task's cgroup, where other paths get an ancestor walked up from it, is "
    "a note",
    """A task's cgroup is pinned by its css_set until the task migrates
    (kernel/cgroup/cgroup.c, css_set holds a reference on each css); an ancestor is
    pinned by its child.  A function that picks one css of a walk up from the task's
    and gets it takes a reference on an object something else pins, unless the task
    migrated meanwhile.""",
    "ref_get_unsafe.c:task_memcg_charged_ancestor", "ref_get_unsafe.c:task_memcg_get",
    effect="demotes")


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

    Objects whose last reference is dropped only a grace period after readers can
    no longer find them (a task_struct, a struct pid: the model's `get_under_rcu`)
    may take a plain get. Objects pinned by something the analyzer cannot see (an
    ancestor pinned by its child, a reference owned by a charged folio) are safe;
    those are usually reached second hand and are not reported. A task's cgroup
    (`mem_cgroup_from_task()`) is pinned by the task's css_set until the task
    migrates: a get on it is a note, since only a concurrent migration and removal of
    the cgroup make it dying.

    ## Example
    ```c
    rcu_read_lock();
    memcg = rcu_dereference(objcg->memcg);
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

    def __init__(self, run) -> None:
        super().__init__(run)
        self.task_gets: list[tuple] = []  # (loc, message, state) of gets on a task's cgroup
        self.walked: set = set()  # get locations also reached with a walked-to object
        self.walkers: set[str] = set()  # `memcg = parent_mem_cgroup(memcg)`: walk steps

    def on_assign(self, st, ev) -> None:
        target, value = ev.target, ev.value
        if not ev.ptr or target.kind != "var":
            return
        if value.kind in ("call", "field", "other") and value.root == target.text:
            self.walkers.add(target.text)
        elif value.kind == "var" and value.text in self.walkers:
            self.walkers.add(target.text)  # `oom_group = memcg` keeps a walked-to object

    def on_call(self, st, ev, fm) -> None:
        if fm is None or fm.get is None or fm.get >= len(ev.args):
            return
        if fm.get_under_rcu:
            return  # the object keeps a reference for readers until a grace period ends
        a = ev.args[fm.get]
        k = ref_key(st, a, fm)
        name = a.root
        if k is None or not name or st.refcount(k) > 0:
            return
        p = st.ptr(name) or st.ptr(k)
        if (p is None and name in self.walkers) or (p is not None and p[0] == "field"):
            self.walked.add(ev.loc)
        if p is None or p[0] != "rcu" or p[1]:
            return
        if self.run.flavours.held_explicit(st) is None and self.run.allows(LOCKED):
            return  # found under a lock, not under RCU
        name = name if st.ptr(name) else k
        origin = st.lookup(st.ptr_origin, name)
        source = self.run.model_for(origin[2][:-2]) \
            if origin and origin[2].endswith("()") else None
        msg = (f"{ev.callee}() on `{name}`{loaded_at(st, name)}, found under RCU, may "
               "resurrect a dying object: use a tryget and check it")
        if source is not None and source.returns_rcu == "task":
            self.task_gets.append((ev.loc, msg, st, name))
            return
        self.report(ev.loc, msg, st, obj=name)

    def on_end(self, exit_states) -> None:
        # A task's cgroup is pinned by its css_set until the task migrates.  A get that
        # other paths make on an ancestor reached by walking up from it (pinned by its
        # child) picks one object of the walk; the start is then only a note.
        for loc, msg, st, name in self.task_gets:
            if loc in self.walked:
                self.report(loc, msg + " (the task's cgroup is pinned until the task "
                            "migrates)", st, obj=name, demote=TASK_CGROUP, confidence="medium")
            else:
                self.report(loc, msg, st, obj=name)
