"""What a function's summary needs from its engine run, collected on the engine's hooks.

The observer subscribes to the same events as the checkers and keeps plain facts:
sleeping calls with their chains, RCU uses with whether a section was held, what
each return hands back, parameters put, freed or deferred, the calls made with
the state at each (for the call graph's edges), and callees nothing is known of.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.engine import beliefs, lifetimes
from analyzer.engine.exceptions import exception
from analyzer.engine.hooks import Hooks, Slot
from analyzer.engine.run import PUBLISHED
from analyzer.ir import Loc, Val


@dataclass
class CallSite:
    """A call and the state it was made in, for the call graph's edges."""

    callee: str | None
    loc: Loc
    rcu_held: bool
    refs: tuple[str, ...]


@dataclass
class RunFacts:
    """What a run observed that a summary of the function needs."""

    # (where, step, the callee's chain, the conditions on the arguments it needs)
    sleeps: list[tuple[Loc, str, tuple, frozenset]] = field(default_factory=list)
    # sleeps that are fatal in softirq context too (not vfree-style "process" ones)
    hard_sleeps: list[tuple[Loc, str, tuple, frozenset]] = field(default_factory=list)
    # sleeps made after releasing (and before re-taking) the caller's RCU section
    sleeps_after_release: list[Loc] = field(default_factory=list)
    # sleeps that do not depend on the object (not kvfree()'s of vmalloc'ed memory)
    sure_sleeps: list[Loc] = field(default_factory=list)
    # lock-ownership assertions other than RCU's (`lockdep_rtnl_is_held()`): alternatives
    other_asserts: bool = False
    # (flavour needed, held, where, what, the conditions on the arguments it needs)
    rcu_uses: list[tuple[str, bool, Loc, str, frozenset]] = field(default_factory=list)
    # per return: (null or 0, a reference goes with it, an RCU pointer, its handle, the
    # field of it whose object a reference pins or "", it comes from a callee nothing
    # is known of, the parameter whose caller's object it hands back unchanged or None)
    returns: list[tuple[bool, bool, bool, tuple | None, str, bool, int | None]] = field(
        default_factory=list)
    # some value returned comes from a callee nothing is known of
    returns_opaque: bool = False
    # per non-NULL return, the parameter it returns unchanged (-1: something else)
    returned_params: set[int] = field(default_factory=set)
    # per non-NULL return, the pointer it returns as the field path of an unchanged
    # parameter it was loaded from, (index, "->priv"), or None (see `Summary.projects`)
    projections: set[tuple[int, str] | None] = field(default_factory=set)
    # puts on locals loaded from a parameter's fields: (parameter index, field paths)
    put_handles: set[tuple[int, str]] = field(default_factory=set)
    param_puts: set[int] = field(default_factory=set)
    # parameters the function takes its own reference on (a store of it then keeps that)
    param_gets: set[int] = field(default_factory=set)
    # per exit path: the parameters put on it, those it found NULL, the value returned
    exit_puts: list[tuple[frozenset, frozenset, int | None]] = field(default_factory=list)
    # per exit path: has a grace period passed on it?
    exit_gp: list[bool] = field(default_factory=list)
    # per exit path: the parameters it stored or handed to a callee that keeps them, its
    # return value and whether that is negative (see `Summary.stores_if_ok`)
    exit_kept: list[tuple[frozenset, int | None, bool | None]] = field(default_factory=list)
    frees: set[int] = field(default_factory=set)
    # callees nothing describes whose results the function releases on some path:
    # (callee, the releasing call, its line), evidence for the other callers' runs
    released: list[tuple[str, str, int]] = field(default_factory=list)
    defers: set[int] = field(default_factory=set)
    unpublishes: set[int] = field(default_factory=set)  # parameters taken off readers' view
    # parameters freed at once on the branch where their last reference went
    frees_last: set[int] = field(default_factory=set)
    # published fields of parameters given a new value: (index, "->field", struct)
    replaces: set[tuple[int, str, str]] = field(default_factory=set)
    # the locations the function loads (RCU accessors, plain loads of fields): where it
    # knows the value it replaces
    loaded: set[str] = field(default_factory=set)
    # the structs it frees or defers: a replacement of one is the function's own business
    freed_types: set[str] = field(default_factory=set)
    calls: list[CallSite] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)
    asserts: list[tuple[str, Loc, str, frozenset]] = field(default_factory=list)
    returned_trygets: set[int] = field(default_factory=set)
    # parameters passed on as the count of references taken or dropped
    count_params: set[int] = field(default_factory=set)
    # parameters the body tests for an error pointer itself (`IS_ERR_OR_NULL(p)`)
    err_params: set[int] = field(default_factory=set)
    # parameters given to a callee nothing is known of (an ops pointer's `->put(p)`)
    opaque_params: set[int] = field(default_factory=set)
    # parameters handed, on some path, to a callee that keeps them (`idr_alloc(&idr, c,
    # ...)`, an analysed body that stores them)
    consumed: set[int] = field(default_factory=set)




GFP_CONTRACT = exception(
    "rcu-sleep-in-reader.gfp-contract", "rcu-sleep-in-reader",
    "a function given a gfp mask that does not allow direct reclaim does not sleep",
    """A `gfp_t` parameter is the caller's word on whether the function may block
    (Documentation/core-api/memory-allocation.rst: GFP_ATOMIC and GFP_NOWAIT callers
    must not sleep, and the function must honour it: `might_sleep_if(
    gfpflags_allow_blocking(gfp))`).  A sleep inside such a function (reached through an
    allocator's slow path whose mask the analysis loses on the way, or a callee it does
    not model) is read as happening only when the caller's mask allows reclaim.  A
    function that sleeps whatever its mask says, given GFP_ATOMIC from a reader, is not
    reported.""",
    "rcu_sleep_in_reader.c:job_snapshot_pooled", "rcu_sleep_in_reader.c:job_snapshot_pooled_kernel",
    attributed=False)


DOCUMENTED_ATOMIC = exception(
    "rcu-sleep-in-reader.documented-atomic", "rcu-sleep-in-reader",
    "a function whose kernel-doc says it may be called in atomic context does not sleep",
    """kernel-doc's `Context:` section says whether a function can sleep
    (Documentation/doc-guide/kernel-doc.rst).  One documented as callable from interrupt
    or atomic context, or under a spinlock, without a word of sleeping (folio_put():
    "May be called in process or interrupt context ... while holding a spinlock"), sleeps
    on no path its callers can take: what its body seems to show (a hugetlb page's free
    that defers its sleeping part to a work item under a flag the analysis does not
    follow) is read as no sleep.  A function documented so that does sleep is not
    reported.""",
    "rcu_sleep_in_reader.c:job_snapshot_release", "rcu_sleep_in_reader.c:job_snapshot_drain",
    attributed=False)


class SummaryObserver(Hooks):
    """Collects `RunFacts` while the engine runs a function."""

    # the parameters this path has put (a put that the result reports, such as a timer's
    # reference dropped when the timer was pending, is not the caller's reference), and
    # AFTER_LAST when it is on the branch where a put dropped the last reference, AFTER_GP
    # once a grace period has passed on it
    slot = Slot(frozenset(), frozenset.intersection)
    AFTER_LAST = -1
    AFTER_GP = ("grace period",)  # a grace period has passed on this path

    def __init__(self, run) -> None:
        super().__init__(run)
        self.facts = RunFacts()
        self.facts.released = sorted((c, b.api, b.put.line)
                                     for c, b in run.beliefs.items() if not b.where)
        # variables given the result of a callee nothing is known of, anywhere in the body
        self.opaque_vars: set[str] = set()

    def opaque(self, value) -> bool:
        """`value` is (or holds) the result of a callee that says nothing of it."""
        if value.kind == "call" and value.tmp:
            fm = self.run.calls.get(value.tmp, (None, None))[1]
            return beliefs.says_nothing(fm)
        return value.kind == "var" and value.text in self.opaque_vars

    def on_exit(self, st) -> None:
        if st.merged:
            return
        nulls = frozenset(i for i, p in enumerate(self.fn.params)
                          if st.truth(p) is False or st.const(p) == 0)
        self.facts.exit_puts.append((self.get(st) - {self.AFTER_LAST, self.AFTER_GP}, nulls,
                                     st.ret))
        self.facts.exit_gp.append(self.AFTER_GP in self.get(st))
        self.facts.exit_kept.append((frozenset(m[1] for m in self.get(st)
                                               if isinstance(m, tuple) and m[0] == "kept"),
                                     st.ret, st.ret_negative))

    def on_branch(self, st, subject, outcome):
        eq = subject.equals
        if eq is not None and outcome and eq[0] in self.fn.params:
            # `if (tmp->dev == dev)`: the caller's object is also what a structure's field
            # holds here, with the structure's reference, and a put of it on this branch
            # (`*r = tmp->next; dev_put(dev); kfree(tmp);`) may drop that one
            held = ("field", self.fn.params.index(eq[0]))
            out = self._on_branch(self.put(st, self.get(st) | {held}), subject, outcome)
            return out if out is not None else self.put(st, self.get(st) | {held})
        return self._on_branch(st, subject, outcome)

    def _on_branch(self, st, subject, outcome):
        undone = {self.fn.params.index(k) for _, _, k in lifetimes.kept_by(st, subject, outcome)
                  if k in self.fn.params}
        if undone:
            # a conditional put that did not happen on this branch (`if
            # (!refcount_dec_not_one(r))`): the caller's reference is still the caller's
            return self.put(st, self.get(st) - undone)
        if outcome and subject.kind == "call" and subject.tmp is not None:
            fm = self.run.calls.get(subject.tmp, (None, None))[1]
            if fm is not None and fm.last:
                return self.put(st, self.get(st) | {self.AFTER_LAST})
        return None

    def on_call(self, st, ev, fm):
        run, facts, fl = self.run, self.facts, self.run.flavours
        facts.calls.append(CallSite(ev.callee, ev.loc, fl.in_section(st),
                                    tuple(k for k, n in st.refs if n > 0)))
        if ev.callee and self.model.names_a_lock_assertion(ev.callee) and \
                not (fm and fm.asserts):
            facts.other_asserts = True
        if fm is None:
            if ev.callee:
                facts.unknown.add(ev.callee)
            facts.opaque_params |= {self.fn.params.index(a.text) for a in ev.args
                                    if a.kind == "var" and a.text in self.fn.params}
            # `get_device(dev); if (async_schedule_dev_nocall(func, dev)) return true;`:
            # a held parameter given to a callee nothing is known of may be its now
            given = {("given", self.fn.params.index(a.text)) for a in ev.args
                     if a.kind == "var" and a.text in self.fn.params and
                     st.refcount(a.text) > 0}
            return self.put(st, self.get(st) | given) if given else None
        if fm.count is not None and fm.count < len(ev.args) and \
                ev.args[fm.count].text in self.fn.params:
            facts.count_params.add(self.fn.params.index(ev.args[fm.count].text))
        if fm.err_test is not None and fm.err_test < len(ev.args) and \
                ev.args[fm.err_test].text in self.fn.params:
            facts.err_params.add(self.fn.params.index(ev.args[fm.err_test].text))
        here = run.param_condition(st)
        if fm.asserts:
            facts.asserts.append((fm.asserts, ev.loc, f"{ev.callee}()", here))
        for cond in self.sleep_conditions(ev, fm, st) if not self.documented_atomic() else ():
            where = f"{ev.loc.file.rsplit('/', 1)[-1]}:{ev.loc.line}"
            step = (ev.loc, f"{ev.callee or '?'}() at {where}", fm.why,
                    here | cond | self.gfp_contract())
            facts.sleeps.append(step)
            if fm.sleeps != "process":
                facts.hard_sleeps.append(step)
            if not fm.sleeps_maybe:
                facts.sure_sleeps.append(ev.loc)
            if (st.borrowed & fl.vanilla and fl.vanilla_depth(st) == 0) or \
                    fm.sleeps_outside_caller_rcu:
                facts.sleeps_after_release.append(ev.loc)
        if fm.requires:
            held = fl.holds(st, fm.requires) is not False
            for cond in fm.requires_when or (frozenset(),):
                facts.rcu_uses.append((fm.requires, held, ev.loc, f"{ev.callee}()",
                                       here | cond))
        if fm.grace_period:
            # `dev_remove_pack()`: unpublished, then synchronize_net(): readers are gone
            facts.unpublishes.clear()
            facts.replaces.clear()
            # and what this path frees from now on is freed after a grace period
            st = self.put(st, self.get(st) | {self.AFTER_GP})
        self.note_replaces(ev, fm)
        kept = self.note_consumed(st, ev, fm)
        if kept:
            st = self.put(st, self.get(st) | {("kept", i) for i in kept})
        # `synchronize_rcu(); kvfree(to_free);` (ext4_kvfree_array_rcu()'s fallback):
        # the caller's object is freed after a grace period, as call_rcu() would
        frees = facts.defers if self.AFTER_GP in self.get(st) else facts.frees
        if fm.frees is not None and self.AFTER_LAST in self.get(st):
            # `if (atomic_long_dec_and_test(&f->f_count)) file_free(f);`: a release
            frees = facts.param_puts
            k = lifetimes.ref_key(st, ev.args[fm.frees], fm) if fm.frees < len(ev.args) \
                else None
            if k in self.fn.params:
                facts.frees_last.add(self.fn.params.index(k))
        if fm.takes_back is not None and fm.takes_back < len(ev.args):
            k = lifetimes.ref_key(st, ev.args[fm.takes_back], fm)
            if k in self.fn.params:
                # the list's reference on a parameter, back in this function's hands
                st = self.put(st, self.get(st) | {("back", self.fn.params.index(k))})
        a = lifetimes.arg(ev, fm.tryget)
        k = lifetimes.ref_key(st, a, fm) if a is not None else None
        if k in self.fn.params:
            # a reference it tries to take for itself (`req->node = tnode_tryget(node)`):
            # a put of the parameter that follows may drop that one, as after a get
            st = self.put(st, self.get(st) | {("got", self.fn.params.index(k))})
        for index, bucket in ((fm.put, facts.param_puts), (fm.frees, frees),
                              (fm.defers_free, facts.defers), (fm.get, facts.param_gets),
                              (fm.unpublishes, facts.unpublishes)):
            if index is None or index >= len(ev.args):
                continue
            k = lifetimes.ref_key(st, ev.args[index], fm)
            i = self.fn.params.index(k) if k in self.fn.params else None
            back, got, held = (("back", i), ("got", i), ("field", i)) if i is not None \
                else (None, None, None)
            if bucket is facts.param_gets and got is not None:
                st = self.put(st, self.get(st) | {got})
            if bucket is facts.param_puts and back in self.get(st):
                # dropping what its list held (`list_del_init(&t->list); put_tree(t)`)
                st = self.put(st, self.get(st) - {back})
                continue
            if bucket is facts.param_puts and held in self.get(st) and st.refcount(k) == 0:
                continue  # the structure's reference, see `on_branch`
            if bucket is facts.param_puts and got in self.get(st) and st.refcount(k) == 0:
                # dropping the reference this path took itself, which went into an
                # object the function still holds (`n->dev = dev; netdev_hold(dev, ...);`
                # then `netdev_put(dev, ...); kfree(n);` when the constructor fails):
                # the caller's reference is untouched
                st = self.put(st, self.get(st) - {got})
                continue
            if k in self.fn.params and (bucket is not facts.param_puts or st.refcount(k) == 0):
                bucket.add(self.fn.params.index(k))
                if bucket is facts.param_puts and not fm.put_maybe:
                    # (a callee that puts on some paths only leaves this path's put
                    # unsure: the summary says "some paths" then too)
                    st = self.put(st, self.get(st) | {self.fn.params.index(k)})
            elif bucket is facts.param_puts and k in run.handles and st.refcount(k) == 0:
                facts.put_handles.add(run.handles[k])
            elif bucket is facts.param_puts and k is None and \
                    lifetimes.through_param(ev.args[index]) in self.fn.params:
                # `kref_put(&(*m)->refcount, ...)` in `foo_put(struct foo **m)`: what the
                # caller's variable `m` points to (`foo_put(&m)`)
                root = lifetimes.through_param(ev.args[index])
                facts.put_handles.add((self.fn.params.index(root), lifetimes.THROUGH))
            elif bucket is facts.param_puts and k is not None and \
                    lifetimes.field_root(k) in self.fn.params and st.refcount(k) == 0:
                # `module_put(p->owner)`: what the caller's `p->owner` holds
                root = lifetimes.field_root(k)
                facts.put_handles.add((self.fn.params.index(root), k[len(root):]))
            elif bucket is facts.param_puts and k is None and \
                    ev.args[index].kind == "field" and ev.args[index].root in self.fn.params \
                    and ev.args[index].text.startswith(ev.args[index].root + "->") and \
                    ev.args[index].root in self.run.stable_params:
                # `ceph_put_mds_session(req->r_session)`: what the caller's
                # `req->r_session` holds, not `req`
                a = ev.args[index]
                facts.put_handles.add((self.fn.params.index(a.root), a.text[len(a.root):]))
        for i, label in fm.puts_handles:
            a = ev.args[i] if i < len(ev.args) else None
            if a is not None and a.kind == "var" and a.text in run.stable_params and \
                    st.refcount(a.text + label) == 0:
                # a helper that drops what the argument's field holds (`rules_ops_put(ops)`:
                # `module_put(ops->owner)`), given a parameter: the caller's, as if here
                facts.put_handles.add((self.fn.params.index(a.text), label))
        return st

    def note_consumed(self, st, ev, fm) -> set[int]:
        """Parameters given to a callee that keeps them, here on this path: the function
        hands its caller's reference on (on some paths only, as a helper that links the
        object into a list only for its first item does).  Returns their indexes."""
        kept: set[int] = set()
        if fm.into is not None and lifetimes.local_structure(
                lifetimes.arg(ev, fm.into), self.run.holders):
            return kept
        for index in (fm.consumes, *fm.consumes_more):
            a = lifetimes.arg(ev, index)
            # (the object itself, or one linked into a structure that keeps it,
            # `list_add(&o->node, &q->list)`: a work item or a timer embedded in it,
            # `&memcg->high_work`, is queued whether or not a reference goes with it; only
            # a caller that took one for it shows that one does, see `lifetimes.on_call`;
            # its first member is the object itself, `skb_dst_set(skb, &rt->dst)`)
            if a is None or (a.kind == "addr" and fm.into is None and not a.base):
                continue
            k = lifetimes.obj_key(st, a) if a.kind == "addr" else lifetimes.value_key(st, a)
            if k in self.fn.params:
                self.facts.consumed.add(self.fn.params.index(k))
                kept.add(self.fn.params.index(k))
        if fm.publishes is not None and max(fm.publishes) < len(ev.args):
            # `rcu_assign_pointer(task->real_cred, new)` with no reference of its own
            # taken: readers find the caller's object there now, with the caller's
            # reference (commit_creds() "eats the caller's reference")
            where, what = ev.args[fm.publishes[0]], ev.args[fm.publishes[1]]
            k = lifetimes.value_key(st, what) if not what.is_null else None
            on_stack = where.root in self.run.locals and \
                where.text.startswith(f"{where.root}.")  # a field of a local structure
            if k in self.fn.params and st.refcount(k) == 0 and not on_stack:
                self.facts.consumed.add(self.fn.params.index(k))
                kept.add(self.fn.params.index(k))
        return kept

    def note_replaces(self, ev, fm) -> None:
        """A new value published at a field of a parameter (`rcu_assign_pointer(
        task->cgroups, to)`), here or by a callee given the parameter; and the structs
        the call frees or defers (the function then disposes of what it replaced)."""
        params = self.fn.params
        put = fm.put if fm.put_frees else None
        for index in (fm.frees, fm.defers_free, put):
            if index is None:
                continue
            types = ev.types if index < len(ev.types) else fm.param_types
            if index < len(types) and types[index]:
                self.facts.freed_types.add(types[index])
        if fm.publishes is not None and fm.publishes[0] < len(ev.args):
            where = ev.args[fm.publishes[0]]
            ctype = ev.types[fm.publishes[0]] if fm.publishes[0] < len(ev.types) else ""
            # (`->cgroups`, `->ops->tbl`: a field path a caller can name, no subscript)
            if where.kind == "field" and where.root in params and ctype and where.path \
                    and where.path[0].startswith("->") and "[]" not in where.path and \
                    all(step.lstrip("-.>") for step in where.path):
                self.facts.replaces.add((params.index(where.root), "".join(where.path),
                                         ctype))
        for index, path, ctype in fm.replaces:
            if index < len(ev.args) and ev.args[index].kind == "var" and \
                    ev.args[index].text in params:
                self.facts.replaces.add((params.index(ev.args[index].text), path, ctype))

    def on_assign(self, st, ev):
        params, target, value = self.fn.params, ev.target, ev.value
        marks = set()
        if ev.ptr and target.kind == "var" and target.text in params:
            # the parameter holds another value from here on this path: a return of it
            # hands back something else than the caller's object
            marks.add(("moved", params.index(target.text)))
        if target.kind != "var" and value.kind == "var" and value.text in params and \
                not value.neg and target.root != value.text:
            # stored where it outlives the function, on this path (see `stored_params`)
            marks.add(("kept", params.index(value.text)))
        if marks - self.get(st):
            st = self.put(st, self.get(st) | marks)
            out = self._on_assign(st, ev)
            return out if out is not None else st
        return self._on_assign(st, ev)

    def _on_assign(self, st, ev):
        if ev.ptr and ev.value.kind == "field":
            self.facts.loaded.add(ev.value.text)
        if ev.ptr and ev.target.kind == "var" and self.opaque(ev.value):
            self.opaque_vars.add(ev.target.text)
        dst = lifetimes.out_param(self.fn, ev)
        if dst is not None:
            # `*dst = rt`: the caller's variable now holds what the function stored there,
            # with the reference the function held on it, or none
            out = ("out", self.fn.params.index(dst))
            k = None if ev.value.is_null else lifetimes.value_key(st, ev.value)
            kept = self.get(st) - {out}
            return self.put(st, kept | {out} if k is not None and st.refcount(k) > 0
                            else kept)
        return None

    def documented_atomic(self) -> bool:
        """Its kernel-doc says it may be called where sleeping is not allowed."""
        return self.fn.atomic_context and self.run.enabled(DOCUMENTED_ATOMIC)

    def gfp_contract(self) -> frozenset:
        """A function given a gfp mask blocks only as the mask allows (GFP_CONTRACT)."""
        fn = self.fn
        if not fn.gfp_params or fn.gfp_bit is None or not self.run.enabled(GFP_CONTRACT):
            return frozenset()
        i, bit = fn.gfp_params[0], 1 << fn.gfp_bit
        if self.run.param_of(Val(fn.params[i], "var", root=fn.params[i]), bit) is None:
            return frozenset()  # (the function makes its own mask)
        return frozenset({(i, "", "&", bit, True)})

    def sleep_conditions(self, ev, fm, st) -> tuple[frozenset, ...]:
        """Under which conditions on this function's arguments the call may sleep."""
        run = self.run
        if not fm.sleeps:
            return ()
        if fm.sleeps_when:
            return fm.sleeps_when
        if run.call_may_sleep(ev, fm, st):
            return (frozenset(),)
        # `kmalloc(size, gfp)` with gfp the caller's: a sleep if the caller's mask allows
        if fm.sleeps == "gfp" and fm.gfp is not None and fm.gfp < len(ev.args) and \
                self.fn.gfp_bit is not None and ev.gfp_blocks is None:
            i = run.param_of(ev.args[fm.gfp], 1 << self.fn.gfp_bit)
            if i is not None:
                return (frozenset({(i, "", "&", 1 << self.fn.gfp_bit, True)}),)
        return ()

    def on_access(self, st, ev, am) -> None:
        self.facts.loaded.add(ev.ptr.text)
        if am is not None and am.needs != "none" and not (
                am.cond is not None and len(ev.args) > am.cond
                and ev.args[am.cond].strip() not in ("0", "false")):
            self.facts.rcu_uses.append((am.needs, self.run.flavours.holds(st, am.needs)
                                        is not False, ev.loc,
                                        f"{ev.macro}({ev.args[0] if ev.args else ''})",
                                        self.run.param_condition(st) |
                                        self.published(ev.ptr)))

    def published(self, ptr: Val) -> frozenset:
        """A load from memory a parameter points to (`rcu_dereference(*prev)`,
        `rcu_dereference(p->slot)`) needs a section only where others can see that
        memory: not for a caller that passes an object it has just allocated."""
        if ptr.root in self.run.stable_params and ptr.text != ptr.root:
            return frozenset({(self.fn.params.index(ptr.root), "", PUBLISHED, 0, True)})
        return frozenset()

    def on_walk(self, st, ev, wm) -> None:
        if wm is not None and not ev.step and wm.needs != "none" and not (
                wm.cond is not None and len(ev.args) > wm.cond):
            self.facts.rcu_uses.append((wm.needs, self.run.flavours.holds(st, wm.needs)
                                        is not False, ev.loc, f"{ev.macro}()",
                                        self.run.param_condition(st)))

    def on_return(self, st, ev) -> None:
        value = ev.value
        if value is None:
            return
        # NULL or 0, or an error pointer (`return ERR_PTR(-ENOMEM);`): no object goes with
        # it (a `return -EINVAL;` of an int function is no pointer's failure)
        ret = self.run.return_value(st, value)
        if ret is not None and ret < 0 and value.kind != "call":
            ret = None
        k = lifetimes.value_key(st, value)
        p = st.ptr(value.text) if value.kind == "var" else None
        # `return refcount_inc_not_zero(&obj->ref);`: the caller's branch decides
        key = value.tmp if value.kind == "call" else value.text
        for pk, kind, obj in st.pending:
            if pk == key and kind.lstrip("~") == "ref" and obj in self.fn.params:
                self.facts.returned_trygets.add(self.fn.params.index(obj))
        rcu = value.kind == "rcu" or (p is not None and p[0] == "rcu" and not p[1])
        # `&cgrp->self`: a part of the caller's own object, alive as long as it is
        own = value.kind == "addr" and value.root in self.fn.params
        opaque = not value.is_null and self.opaque(value)
        if opaque:
            self.facts.returns_opaque = True
        if not (value.is_null or ret == 0 or (ret is not None and ret < 0)):
            # the parameter itself, or (as a store or return of it hands it on, see
            # `lifetimes.value_key`) a tagged form of it: `(struct key *)((unsigned
            # long)key_ref & ~1UL)` is the object key_ref points to
            name = value.text if value.kind == "var" else \
                value.root if value.kind == "other" and not value.neg and not value.truth \
                else None  # (`head->next == head` is a truth value, not the object)
            if name is not None and value.kind == "other" and value.container:
                name = st.alias(name) or name  # container_of()'s `__mptr`: the argument
            stable = name is not None and name in self.run.stable_params
            self.facts.returned_params.add(self.fn.params.index(name) if stable else -1)
            self.facts.projections.add(self.projection(value))
        back = self.handed_back(st, value)
        if back is not None:
            # (on this path the caller's reference comes back with the result: a put
            # of it, when the function puts the parameter on its other paths)
            st = self.put(st, self.get(st) | {("back to caller", back)})
        self.facts.returns.append((
            value.is_null or ret == 0 or (ret is not None and ret < 0),
            (k is not None and st.refcount(k) > 0) or k in self.model.immortal,
            rcu or ("own" if own else False),
            self.run.handles.get(value.text) if value.kind == "var" else None,
            # (`try_module_get(t->owner)`: the reference pins what the field points to)
            next((x[len(k):] for x, n in st.refs if n > 0 and k is not None and
                  lifetimes.field_root(x) == k), ""),
            opaque, back))
        return st if back is not None else None

    def projection(self, value) -> tuple[int, str] | None:
        """`return f->priv;` (or a local only ever loaded from one parameter's fields):
        the pointer stored at a field path of a parameter the function never changes."""
        if not self.fn.returns_ptr:
            return None  # (`return skb->len;`: a number, no object)
        if value.kind == "var":
            h = self.run.handles.get(value.text)
            return h if h is not None and "|" not in h[1] and \
                self.fn.params[h[0]] in self.run.stable_params else None
        path = value.path
        if value.kind != "field" or value.root not in self.run.stable_params or not path or \
                not all(s.startswith(("->", ".")) for s in path) or \
                not path[0].startswith("->"):
            return None
        return self.fn.params.index(value.root), "".join(path)

    def handed_back(self, st, value) -> int | None:
        """The parameter whose own object, with its caller's reference and none of this
        function's, is returned here (`if (covers(pgmap, pfn)) return pgmap;` in an
        iterator's step that puts `pgmap` on its other paths)."""
        if value.kind != "var" or value.text not in self.fn.params or \
                st.refcount(value.text) > 0:
            return None
        i = self.fn.params.index(value.text)
        return None if ("moved", i) in self.get(st) else i
