"""rcu-free-without-grace: an object unpublished and freed with no grace period between."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from analyzer.engine.exceptions import exception
from analyzer.ir import Rule, Val
from checkers.base import Checker, Slot, register
from checkers.lifetime_util import obj_key, reset_names, value_key, without


def index_name(val: Val) -> str:
    """The name an index (xarray, idr) goes by: `&net->dev_by_index` → dev_by_index,
    `&ids` → ids."""
    return val.last_member or val.root or val.text


# marks an RCU load that says no reader can reach the object any more
_SOLE = "\0sole"
# marks a plain load (of a field the writer reads under its lock)
_PLAIN = "\0plain"

TEARDOWN = exception(
    "rcu-free-without-grace.teardown-null-store", "rcu-free-without-grace",
    "NULL stored where a value loaded as nobody else's was (teardown) unpublishes nothing",
    """`m = rcu_dereference_raw(s->cur); RCU_INIT_POINTER(s->cur, NULL); kfree(m);`:
    rcu_dereference_raw() and rcu_dereference_protected(p, 1) state that the writer is
    the only one left with the object (Documentation/RCU/rcu_dereference.rst: teardown,
    or initialisation, where no reader can be present); the NULL store is tidiness, not
    a removal readers might still be inside.  A new object stored there still replaces
    the old one, whose free then owes a grace period.""",
    "rcu_free_unpublished.c:qset_teardown", "rcu_free_replaced.c:tproc_replace_free",
    attributed=False)  # decided at the store, reported at the free


LOCKED_LOOKUP = exception(
    "rcu-free-without-grace.lookup-under-lock", "rcu-free-without-grace",
    "a lookup or tryget made under a spinlock alone, with no rcu_read_lock(), does not "
    "show lockless readers",
    """`spin_lock(&root->inode_lock); node = xa_load(&root->nodes, ino); if (node)
    refcount_inc_not_zero(&node->refs);`: a spinlock makes its holder an RCU reader
    too (consolidated RCU), but the lookup is protected by the lock, and an updater
    that unlinks under that lock before the free leaves nobody to wait for
    (__btrfs_release_delayed_node()).  An object readers look up under
    rcu_read_lock() is the RCU idiom, whose last put must wait for a grace period.""",
    "rcu_free_by_type.c:tlock_put", "rcu_free_by_type.c:tbuf_put",
    attributed=False)  # a program-wide fact, decided at the lookup, reported at the free


def _sole(ev) -> bool:
    """`rcu_dereference_raw(p)`, `rcu_dereference_protected(p, 1)`: loads whose writer
    states that it alone has the object (teardown), not that a lock keeps readers out."""
    if ev.macro.endswith("_raw"):
        return True
    cond = ev.args[-1].strip("() ") if len(ev.args) > 1 else ""
    return ev.macro.endswith("_protected") and cond in ("1", "true")


@dataclass(frozen=True)
class _Facts:
    """Objects unpublished with no grace period since, and where each RCU load came from."""

    unpublished: frozenset[str] = frozenset()
    # (variable or field, the location it was loaded from: with an RCU accessor, or a
    # plain load of a field)
    loaded_from: frozenset[tuple[str, str]] = frozenset()
    # a published location of pointers to a struct was given a new value (or NULL) and
    # the old one is not known here (a parameter, a helper's load): (struct, the value
    # published, which is not the one taken off, the location)
    types_off: frozenset[tuple[str, str | None, str]] = frozenset()
    # locals holding an object this path allocated: nobody else has seen it
    fresh: frozenset[str] = frozenset()
    # on the branch where a put dropped the last reference (`refcount_dec_and_test()`)
    after_last: bool = False
    # a grace period has elapsed on this path
    graced: bool = False
    # where each object was unpublished, for the message (not part of a path's identity)
    where: tuple = field(default=(), compare=False)

    def forget(self, names) -> _Facts:
        if not (self.unpublished or self.loaded_from or self.fresh):
            return self
        return replace(self, unpublished=self.unpublished - set(names),
                       loaded_from=without(self.loaded_from, names),
                       fresh=self.fresh - set(names))


def _join(a: _Facts, b: _Facts) -> _Facts:
    return _Facts(a.unpublished | b.unpublished, a.loaded_from & b.loaded_from,
                  a.types_off | b.types_off, a.fresh | b.fresh, a.after_last or b.after_last,
                  a.graced and b.graced, a.where or b.where)


def _type(ev, index: int, fm=None) -> str:
    """The struct argument `index` reaches: typed by the lowering for the model's calls,
    by the callee's own parameter for a callee whose body was analysed."""
    if index < len(ev.types):
        return ev.types[index]
    types = fm.param_types if fm is not None else ()
    return types[index] if index < len(types) else ""


def _under_rcu(facts, kind: str, called: set) -> set[str]:
    """What facts of `kind` name inside a read-side section: their own (`kind`), or in a
    helper that a caller calls under one (`kind-in`)."""
    return {f[1] for _, f in facts if f[0] == kind} | \
        {f[1] for _, f in facts if f[0] == kind + "-in" and f[2] in called}


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

    The object is known by name when this function loaded it from the location it
    replaces, and otherwise by type: after `RCU_INIT_POINTER(dev->maps, NULL)` (or a
    new value stored there) a `struct maps` freed at once is the one readers could
    see, unless this path allocated it. Also reported: a free of a struct that RCU
    readers find and tryget (`obj_cgroup_tryget()` under `rcu_read_lock()`, or
    `atomic_inc_not_zero()` of the counter whose dec-and-test guards the free) made as
    its last reference goes — after `refcount_dec_and_test()`, or in the release
    callback given to `kref_put()`/`percpu_ref_init()` — since a reader may have
    found it just before; and an RCU callback (a static function whose one parameter
    is a `struct rcu_head *`) called directly while nothing hands it to `call_rcu()`.

    Calls count as what they do: a helper that publishes a new value at a field of
    its argument without loading the old one (`css_set_move_task()` storing
    `task->cgroups`) unpublishes the old value in its caller, and a put whose last
    reference frees at once (`if (refcount_dec_and_test(&g->ref)) kfree(g);`) is a
    free there — so `css_set_move_task(task, from, to); put_css_set_locked(from);`
    is a finding when that put frees with `kfree()` rather than `kfree_rcu()`.

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

    slot = Slot(_Facts(), _join)

    def __init__(self, run) -> None:
        super().__init__(run)
        # RCU loads by temporary: the published location each one read
        self.sources: dict[str, str] = {}

    def on_access(self, st, ev, am):
        self.sources[ev.result] = ev.ptr.text + (_SOLE if _sole(ev) else "")

    def on_call(self, st, ev, fm):
        for a in ev.args:
            if a.kind == "func":
                # handed on as a function value (call_rcu(), an ops table): not only
                # called directly
                node = self.run.context.resolve(a.text)
                if node is not None:
                    self.run.emit(self.rule, ("fn-value", node))
        if len(ev.args) == 1 and ev.callee and (fm is None or fm.inferred) and \
                ev.member_type in self.run.model.rcu_head_types:
            callee = self.run.context.resolve(ev.callee)
            if callee is not None:
                # `rcu_free_slab(&slab->rcu_head)`: an RCU callback run at once
                self.report(ev.loc, f"{ev.callee}() is an RCU callback (its one parameter "
                            "is the object's rcu_head) but is called directly here, and "
                            "nothing hands it to call_rcu(): what it frees goes with no "
                            "grace period (use call_rcu())", st, obj=ev.callee,
                            conditions=(("rcu-callback", callee), ("never-deferred", callee)))
        filled = {a.text[1:] for a in ev.args if a.kind == "addr" and a.text[1:].isidentifier()}
        if filled:
            # `fib_nl2rule(..., &rule)`: a local a callee fills in is its making (an
            # out-parameter constructor), not a pointer readers were given
            st = self.put(st, replace(self.get(st), fresh=self.get(st).fresh | filled))
        if fm is None:
            return st if filled else None
        held = self.run.flavours.holds(st, "rcu")
        if held and self.run.flavours.held_explicit(st) is None and \
                self.run.enabled(LOCKED_LOOKUP):
            held = False  # only a spinlock's implicit section: a locked lookup
        if fm.returns_rcu is True and not fm.inferred and ev.args:
            # an index RCU readers look objects up in (xa_load(), idr_find()): under a
            # section here, or in a helper its callers call under one
            index = index_name(ev.args[0])
            self.run.emit(self.rule, ("rcu-lookup", index) if held else
                          ("rcu-lookup-in", index, self.run.context.node))
        elif fm.inferred and held:
            callee = self.run.context.resolve(ev.callee) if ev.callee else None
            if callee is not None:
                self.run.emit(self.rule, ("rcu-call", callee))
        tried = fm.tryget if fm.tryget is not None else fm.counter_tryget
        t = _type(ev, tried, fm) if tried is not None else ""
        if t:
            # readers that find this struct under RCU and try to pin it (here, or in a
            # helper called under a section): its count may reach zero while they see it
            self.run.emit(self.rule, ("rcu-tryget", t) if held else
                          ("rcu-tryget-in", t, self.run.context.node))
        if fm.release is not None and fm.release < len(ev.args) and \
                ev.args[fm.release].kind == "func":
            release = self.run.context.resolve(ev.args[fm.release].text)
            if release is not None:
                self.run.emit(self.rule, ("release-fn", release))
        if not (fm.frees is not None or fm.grace_period or fm.publishes or
                fm.unpublishes is not None or fm.defers_free is not None or
                fm.replaces or fm.put_frees):
            return st if filled else None
        if fm.publishes is not None and max(fm.publishes) < len(ev.args):
            where, value = ev.args[fm.publishes[0]], ev.args[fm.publishes[1]]
            st = self.replaced(st, where, value, ev.loc, _type(ev, fm.publishes[0]))
        facts = self.get(st)
        if fm.frees is not None and fm.frees < len(ev.args):
            self.check_free(st, ev, fm, facts, fm.frees)
        elif fm.put_frees and fm.put is not None and fm.put < len(ev.args):
            # a put whose last reference frees the object at once is a free here
            self.check_free(st, ev, fm, facts, fm.put)
        for index, path, ctype in fm.replaces:
            # `css_set_move_task(task, from, to)` publishes `to` at task->cgroups
            if index < len(ev.args) and ev.args[index].kind in ("var", "field"):
                arg = ev.args[index]
                st = self.replaced(st, Val(arg.text + path, "field", arg.root), None,
                                   ev.loc, ctype)
        facts = self.get(st)
        unpublished, where, types_off = facts.unpublished, facts.where, facts.types_off
        if fm.grace_period:
            unpublished, types_off = frozenset(), frozenset()
            facts = replace(facts, graced=True, after_last=False)
        if fm.unpublishes is not None and fm.unpublishes < len(ev.args):
            k = obj_key(st, ev.args[fm.unpublishes])
            if k is not None:
                unpublished |= {k}
                where = (*where, (k, ev.loc, f"{ev.callee}()"))
        for index in (fm.frees, fm.defers_free):
            if index is not None and index < len(ev.args):
                unpublished -= {obj_key(st, ev.args[index])}
        if fm.defers_free is not None and types_off:
            # the struct taken off readers' view went to kfree_rcu(): accounted for
            gone = _type(ev, fm.defers_free, fm)
            types_off = frozenset(t for t in types_off if t[0] != gone)
        return self.put(st, replace(facts, unpublished=unpublished, types_off=types_off,
                                    where=where))

    def check_free(self, st, ev, fm, facts: _Facts, index: int) -> None:
        """A free of what this path took off readers' view, by name or by type (a put
        that frees at once when it drops the last reference counts as one)."""
        put = index != fm.frees
        frees = f"{ev.callee}() drops a reference to" if put else f"{ev.callee}() frees"
        last = " (and frees it at once when that is the last)" if put else ""
        if fm.inferred and fm.defers_free == index:
            # a callee that frees its argument on one path and defers on another, as
            # `sk_destruct()` does by SOCK_RCU_FREE, decides itself which one is needed
            return
        arg = ev.args[index]
        call, cfm = self.run.calls.get(arg.tmp, (None, None)) if arg.tmp else (None, None)
        if cfm is not None and cfm.returns_old and call.args:
            # `kvfree(xa_erase(&xa, i))`: freed as it comes off readers' view
            index_of = index_name(call.args[0]) if cfm.publishes is None else None
            self.report(ev.loc, f"{ev.callee}() frees what {call.callee}() took off RCU "
                        "readers' view, with no grace period in between: RCU readers "
                        "may still hold it (use kfree_rcu() or synchronize_rcu() first)",
                        st, obj=arg.text,
                        conditions=(("rcu-read", index_of),) if index_of else ())
            return
        k = obj_key(st, arg) or (arg.text if arg.kind == "field" else None)
        if k is not None and k in facts.unpublished:
            where = st.lookup(facts.where, k)
            how = f" by {where[2]} at line {where[1].line}" if where else ""
            # taken off an index: only if readers look it up there under RCU
            index_of = where[3] if where and len(where) > 3 else None
            # (named as the code names it here: paths that reach the object through
            # another name, a macro's temporary, are one finding)
            name = arg.text if arg.kind == "var" else k
            self.report(ev.loc, f"{frees} `{name}`{last}, unpublished{how}, with no "
                        "grace period in between: RCU readers may still hold it (use "
                        "kfree_rcu() or synchronize_rcu() first)", st, obj=name,
                        conditions=(("rcu-read", index_of),) if index_of else ())
            return
        t = _type(ev, index, fm)
        if not t or k is None or k in facts.fresh:
            return
        # where the freed pointer came from, when this function loaded it: it is the
        # replaced object only if that is the replaced location
        came = {src.replace(_SOLE, "").replace(_PLAIN, "")
                for v, src in facts.loaded_from if v == k}
        off = [loc for ty, new, loc in facts.types_off
               if ty == t and new != k and (not came or loc in came)]
        if not off:
            if not facts.graced and not came and not put:
                self.check_release(st, ev, arg.text, t, facts)
            return
        self.report(ev.loc, f"{frees} `{k}`, a {t}{last}, after the store to "
                    f"`{off[-1]}` replaced the {t} RCU readers find there, with no grace "
                    "period in between: they may still hold it (use kfree_rcu() or "
                    "synchronize_rcu() first)", st, obj=k)

    def check_release(self, st, ev, k: str, t: str, facts: _Facts) -> None:
        """A free as the last reference goes, of a struct RCU readers tryget: a reader
        that found the object before its count reached zero may still be looking at it
        (its tryget fails, but only after it dereferenced the object)."""
        if facts.after_last:
            when, conditions = "as its last reference goes", (("unsafe-last-put", t),)
        else:
            node = self.run.context.node
            when = f"in {self.fn.name}(), which runs when the last reference goes"
            conditions = (("unsafe-last-put", t), ("release-fn", node))
        self.report(ev.loc, f"{ev.callee}() frees `{k}`, a {t}, {when}, with no grace "
                    f"period: RCU readers find {t} objects and tryget them, so one may still "
                    "be looking at it (use kfree_rcu() or call_rcu())", st, obj=k,
                    conditions=conditions)

    def replaced(self, st, where, value, loc, ctype: str = "", plain: bool = False):
        """Publishing a new value (or NULL) unpublishes the one RCU readers could see
        there: the value loaded from there, or else some object of the location's type.
        `value` is None for a callee's store of a value not known here."""
        facts = self.get(st)
        if where.root is not None and where.root in facts.fresh:
            return st  # initialising an object nobody else can see yet
        null = value is not None and (
            value.is_null or (value.kind == "var" and st.const(value.text) == 0))
        new = value_key(st, value) if value is not None else None
        # storing NULL unpublishes the old value just the same, unless it was loaded as
        # nobody else's any more (teardown: `rcu_dereference_raw()`, a condition of 1)
        # a plain store (not rcu_assign_pointer()) says nothing of plainly loaded values
        replaced = {v for v, src in facts.loaded_from
                    if src == where.text or (src == where.text + _SOLE and not (
                        null and self.run.allows(TEARDOWN))) or
                    (src == where.text + _PLAIN and not plain)}
        if not replaced:
            if not ctype or any(src.startswith(where.text) for _, src in facts.loaded_from):
                return st
            return self.put(st, replace(
                facts, types_off=facts.types_off | {(ctype, new, where.text)}))
        old = {st.alias(v) or v for v in replaced} - {new}
        return self.put(st, replace(
            facts, unpublished=facts.unpublished | old,
            where=(*facts.where, *((k, loc, f"the store to `{where.text}`")
                                   for k in sorted(old)))))

    def on_assign(self, st, ev):
        target, value = ev.target, ev.value
        if target.kind != "var":
            if not ev.ptr or target.kind != "field":
                return None
            st = self.replaced(st, target, value, ev.loc, plain=True)
            facts = self.get(st)
            # `t->spare = t->primary;`: the field now holds what was loaded from there
            kept = frozenset(e for e in facts.loaded_from if e[0] != target.text)
            if value.kind == "field":
                kept |= {(target.text, value.text + _PLAIN)}
            return self.put(st, replace(facts, loaded_from=kept))
        facts = self.get(st).forget(reset_names(ev))
        source = self.sources.get(value.tmp) if value.tmp else None
        if source is None and value.kind == "field" and ev.ptr:
            source = value.text + _PLAIN  # a plain load: the writer's, under its lock
        if source is not None:
            facts = replace(facts, loaded_from=facts.loaded_from | {(target.text, source)})
        call, fm = self.run.calls.get(value.tmp, (None, None)) if value.tmp else (None, None)
        if fm is not None and fm.returns_old:
            # `old = rcu_replace_pointer(...)`, `old = xa_erase(...)`: off readers' view
            index = index_name(call.args[0]) if fm.publishes is None and call.args \
                else None
            facts = replace(facts, unpublished=facts.unpublished | {target.text},
                            where=(*facts.where, (target.text, ev.loc, f"{call.callee}()",
                                                  index)))
        elif fm is not None and fm.allocates:
            facts = replace(facts, fresh=facts.fresh | {target.text})
        elif value.kind == "var" and value.text in facts.unpublished:
            # `old_maps = maps;`: the copy is the same unpublished object
            came = st.lookup(facts.where, value.text)
            facts = replace(facts, unpublished=facts.unpublished | {target.text},
                            where=(*facts.where, (target.text, *came[1:])) if came
                            else facts.where)
        elif value.kind == "var" and value.text in facts.fresh:
            facts = replace(facts, fresh=facts.fresh | {target.text})
        return self.put(st, facts)

    @classmethod
    def resolve(cls, findings, facts):
        """An object taken off an index was reachable by RCU readers only if some analysed
        code looks objects up in an index of that name inside a read-side section (its
        own, or its caller's: a lookup helper called under one)."""
        called = {f[1] for _, f in facts if f[0] == "rcu-call"}
        # a struct RCU readers tryget may reach a zero count while they look at it: its
        # last put must wait for a grace period
        known = {"rcu-read": _under_rcu(facts, "rcu-lookup", called),
                 "unsafe-last-put": _under_rcu(facts, "rcu-tryget", called),
                 "release-fn": {f[1] for _, f in facts if f[0] == "release-fn"}}
        deferred = {f[1] for _, f in facts if f[0] == "fn-value"}
        known["rcu-callback"] = {f[1] for _, f in facts if f[0] == "rcu-callback"}
        return [f for f in findings
                if all(c[1] not in deferred if c[0] == "never-deferred"
                       else c[1] in known.get(c[0], ()) for c in f.conditions)]

    def on_end(self, exit_states):
        fn = self.fn
        # `struct rcu_head` is a macro for `struct callback_head`
        if fn.is_static and fn.param_types in (("struct rcu_head",),
                                                ("struct callback_head",)):
            self.run.emit(self.rule, ("rcu-callback", self.run.context.node))

    def on_branch(self, st, subject, outcome):
        if outcome and subject.kind == "call" and subject.tmp is not None:
            fm = self.run.calls.get(subject.tmp, (None, None))[1]
            if fm is not None and fm.last:
                return self.put(st, replace(self.get(st), after_last=True))
        return None

    def on_walk(self, st, ev, wm):
        return self.put(st, self.get(st).forget(reset_names(ev)))

    def on_dead(self, st, ev):
        return self.put(st, self.get(st).forget(reset_names(ev)))
