"""rcu-use-after-unlock: a pointer from a read-side section used after it ended."""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.ir import Call, Rule
from checkers.base import Checker, Slot, register
from checkers.lifetime_util import ended_at, loaded_at, obj_key, protected, ref_key

_TAKEN = "\0taken off"

SECOND_HAND = exception(
    "rcu-use-after-unlock.second-hand", "rcu-use-after-unlock",
    "a pointer loaded from a field of an RCU-protected object, used after the section, "
    "is a note",
    """`unit = info->unit[i]` under RCU, `unit->map` after the unlock: the object the
    field points to is not necessarily freed with its RCU-protected holder; an owner
    reference, a lock or an RCU-delayed free of the whole structure may keep it.  The
    finding asks the question the reviewer asked of shrink_slab_memcg() ("what
    guarantees that the shrinker_info_unit exists at this point?").""",
    "rcu_use_after_unlock.c:memcg_shrink_units", "rcu_use_after_unlock.c:node_next_val",
    effect="demotes")


NAMED_GET = exception(
    "rcu-use-after-unlock.named-get", "rcu-use-after-unlock",
    "a pointer given to a one-argument call named like a get, that nothing describes, is "
    "taken to hold a reference",
    """`t = rcu_dereference(sq->thread); tsk_hold(t); rcu_read_unlock(); use(t);`: the
    kernel's gets are named *_get, get_*, *_hold, *_grab, *_inc (sock_hold(), dev_hold(),
    get_device(); Documentation/core-api/kref.rst), and one whose body is in another file
    is not counted; the function shows that it took a reference before the unlock.""",
    "rcu_use_after_unlock.c:tsq_cpu_usec_held", "rcu_use_after_unlock.c:tsq_cpu_usec")


@register
class RcuUseAfterUnlock(Checker):
    """
    ## What it finds
    A pointer obtained inside an RCU read-side section — from `rcu_dereference()`,
    an RCU list walk, or an RCU lookup such as `idr_find()` or `xa_load()` — that is
    dereferenced, handed to a get/put or to a callee that dereferences it, or used to
    continue an RCU walk after every read-side section has ended, with no reference
    taken on it before the section closed. A section re-entered later does not help:
    the object may have been freed in the window between. A callee whose body is in
    another file and that nothing describes (`io_sq_cpu_usec(tsk)`) is taken to use
    the pointer it is given (medium confidence), unless it is given it through `...`
    (`pr_debug("%p", p)`); a call named like a get given the pointer before the unlock
    (`tsk_hold(t)`) is taken to have taken the reference.

    A pointer that the path takes off the location it loaded it from, after the
    section (`RCU_INIT_POINTER(steam->input, NULL)`, `rcu_assign_pointer()` of another
    value there), is the updater's from then on: the structure's hold on it has moved
    to the function, which waits for its readers before tearing it down
    (`synchronize_rcu()`); a use before that is still reported.

    A pointer loaded from a field of such an object (second hand, such as
    `unit = info->unit[i]`) and used after the unlock is reported at `note` level:
    something else (an owner reference, a lock, an RCU-delayed free of the parent)
    may keep it alive, and the finding asks what.

    ## Why is this bad
    RCU only guarantees that an object removed by an updater is not freed until
    every reader that might see it has left its section. Once the section ends the
    grace period can complete and the object can be freed: the pointer dangles.
    (Documentation/RCU/whatisRCU.rst, "rcu_read_unlock()".) It is the reviewer's
    question on `shrink_slab_memcg()` in "mm: shrinker: make memcg slab shrink
    lockless" (https://lore.kernel.org/linux-mm/?q=s%3A%22make+memcg+slab+shrink+lockless%22):
    "what guarantees that the shrinker_info_unit exists at this point?"

    ## Example
    ```c
    rcu_read_lock();
    memcg = mem_cgroup_from_id(id);
    rcu_read_unlock();
    memcg->kmemcg_id = -1;              /* the memcg may be gone */
    ```

    ## Use instead
    Take a reference while still inside the section (`css_tryget()`,
    `refcount_inc_not_zero()`, `kref_get_unless_zero()`), check that it succeeded,
    and drop it when done; or keep the whole use inside the section.
    """

    rule = Rule(
        "rcu-use-after-unlock", "RcuUseAfterUnlock",
        "Pointer from an RCU read-side section used after the section ended",
        level="warning", precision="high", cwe=("CWE-416", "CWE-362"),
        tags=("memory-safety", "rcu", "lifetime"),
    )

    # (variable, base, field path): the variable holds what the path loaded under RCU
    # from that location; (_TAKEN, variable): the path took it off that location since
    slot = Slot(frozenset(), frozenset.intersection)

    def __init__(self, run) -> None:
        super().__init__(run)
        # RCU loads by result: the location they read (base variable, field path)
        self.sources: dict[str, tuple[str, tuple]] = {}
        self.reported: set[str] = set()
        # variables given to a one-argument call named like a get that nothing
        # describes (see NAMED_GET)
        self.named_gets = {ev.args[0].text for b in self.fn.blocks for ev in b.events
                           if isinstance(ev, Call) and ev.callee and len(ev.args) == 1 and
                           ev.args[0].kind == "var" and not ev.gets_other and
                           run.model.names_a_get(ev.callee) and
                           run.model_for(ev.callee) is None}

    def stale(self, st, name: str | None):
        if not name:
            return None
        p = st.ptr(name)
        if p is None or not p[1] or protected(st, name) or name in self.reported:
            return None
        key = st.alias(name) or name
        if key in st.dropped or key in st.failed:
            return None  # ref-double-put / ref-unchecked-tryget say it more precisely
        if st.lookup(st.ref_origin, key) is not None:
            return None  # pinned on this path, its reference handed to a holder since
        if name in self.named_gets and self.run.allows(NAMED_GET):
            return None
        if {(_TAKEN, name), (_TAKEN, key)} & self.get(st):
            return None  # taken off the structure: the updater's now
        return p[0]

    # --- pointers the path takes off the location it loaded them from -------------------
    def on_access(self, st, ev, am) -> None:
        p = ev.ptr
        if p.kind == "field" and p.root and p.path:
            self.sources[ev.result] = (p.root, tuple(p.path))

    def on_assign(self, st, ev):
        t, v = ev.target, ev.value
        if t.kind != "var":
            return None
        mine = self.get(st)
        # the variable's new value, or its base's: what was known of the old one goes
        out = {x for x in mine if t.text not in x[:2]}
        src = self.sources.get(v.tmp) if v.tmp else None
        if src is not None:
            out.add((t.text, *src))
        out = frozenset(out)
        return self.put(st, out) if out != mine else None

    def taken_off(self, st, ev, fm):
        """`RCU_INIT_POINTER(head->next, NULL)` after `n = rcu_dereference(head->next)`:
        the pointers loaded from that location are the path's now."""
        where, what = ev.args[fm.publishes[0]], ev.args[fm.publishes[1]]
        if where.kind != "field" or not where.root:
            return None
        loc = (st.alias(where.root) or where.root, tuple(where.path or ()))
        new = obj_key(st, what) if not what.is_null else None
        mine = self.get(st)
        taken = {(_TAKEN, x[0]) for x in mine if x[0] != _TAKEN and
                 (st.alias(x[1]) or x[1], x[2]) == loc and
                 (st.alias(x[0]) or x[0]) != new}
        return self.put(st, mine | taken) if taken - mine else None

    def complain(self, st, name: str, kind: str, loc, how: str,
                 confidence: str = "high") -> None:
        self.reported.add(name)
        if kind == "rcu":
            self.report(loc, f"`{name}`{loaded_at(st, name)} {how} after the RCU read-side "
                        f"section ended{ended_at(st)}, with no reference held on it", st,
                        obj=name, confidence=confidence)
        else:
            self.report(loc, f"`{name}`{loaded_at(st, name)} came from an RCU-protected "
                        f"object and {how} after the section ended{ended_at(st)}: what keeps "
                        "it alive here?", st, obj=name, demote=SECOND_HAND, confidence="medium")

    def on_deref(self, st, ev) -> None:
        p = ev.ptr
        if p.kind != "var":
            return
        kind = self.stale(st, p.text)
        if kind:
            self.complain(st, p.text, kind, ev.loc, "is dereferenced")

    def on_call(self, st, ev, fm):
        self.uses(st, ev, fm)
        if fm is not None and fm.publishes is not None and \
                max(fm.publishes) < len(ev.args):
            return self.taken_off(st, ev, fm)
        return None

    def uses(self, st, ev, fm) -> None:
        for a in ev.args:
            # `&obj->field` hands the callee a pointer into the object's memory
            if a.kind == "addr" and "->" in a.text and a.root:
                kind = self.stale(st, a.root)
                if kind:
                    self.complain(st, a.root, kind, ev.loc,
                                  f"is passed (as `{a.text}`) to {ev.callee or 'a call'}()")
        if fm is None or (fm.inferred and fm.opaque_params):
            self.unknown_callee(st, ev, fm)
        if fm is None:
            return
        for idx in fm.derefs:
            if idx < len(ev.args) and ev.args[idx].kind == "var":
                name = ev.args[idx].text
                kind = self.stale(st, name)
                if kind:
                    self.complain(st, name, kind, ev.loc,
                                  f"is passed to {ev.callee}(), which dereferences it")
        for idx in (fm.get, fm.tryget, fm.put):
            if idx is None or idx >= len(ev.args):
                continue
            a = ev.args[idx]
            name = a.root if a.kind in ("var", "addr") else None
            if name and ref_key(st, a, fm) is not None:
                kind = self.stale(st, name)
                if kind:
                    self.complain(st, name, kind, ev.loc, f"is passed to {ev.callee}()")

    def unknown_callee(self, st, ev, fm) -> None:
        """A callee defined in another file that nothing describes (or whose body hands
        the argument on to one): what else would it do with an object's pointer than
        use it?  Not an argument passed through `...`, whose use no prototype states."""
        if not ev.callee:
            return
        for idx, a in enumerate(ev.args):
            if a.kind != "var" or (0 <= ev.variadic_from <= idx) or \
                    (fm is not None and (idx not in fm.opaque_params or idx in fm.derefs)):
                continue
            kind = self.stale(st, a.text)
            if kind:
                self.complain(st, a.text, kind, ev.loc,
                              f"is passed to {ev.callee}(), which is not analysed here and "
                              "may use it", confidence="medium")

    def on_walk(self, st, ev, wm) -> None:
        if not ev.step:
            return
        name = ev.cursor.text
        kind = self.stale(st, name)
        if kind:
            self.complain(st, name, kind, ev.loc, f"advances the {ev.macro}() walk")
