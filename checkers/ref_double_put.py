"""ref-double-put: two puts for one get, or a put with no reference held."""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.engine.lifetimes import kept_key
from analyzer.ir import Rule
from checkers.base import Checker, Slot, register
from checkers.lifetime_util import believed, is_local, ref_key, value_key

NOT_ONLY = exception(
    "ref-double-put.believed-not-only-reference", "ref-double-put",
    "a second put of a reference known only from the function's own release",
    """The release that shows the reference is the function's own says nothing of the
    object's other references (its parent's, a list's, a tree's): a helper's put or
    the function's own may drop one of those (configfs_rmdir()'s client_drop_item()
    before config_item_put(); btrfs_remove_block_group() putting the references of the
    lists and the rbtree it unlinks the block group from).  Double puts of references
    the model or an analysed body shows are still reported.""",
    "ref_leak_believed.c:tnode_remove", "ref_double_put.c:memcg_use_id")
MAYBE = exception(
    "ref-double-put.after-conditional-helper-put", "ref-double-put",
    "a put after a helper that puts the object on some of its paths only",
    """A helper whose body drops its argument only under a condition of its own
    (`if (refcount_dec_and_test(&config->refs)) ... put(nbd)`, a state that says the
    queue still owns the task, a result that says the socket was dropped) shows that
    some reference goes there, not that it is the one this function took: the object's
    other references (a second counter's, a queue's, its creator's) are what such
    helpers usually drop (nbd_genl_disconnect(), fail_scsi_tasks(), netlink_unicast()).
    A helper that puts on every path still counts.""",
    "ref_double_put.c:entry_settle", "ref_double_put.c:memcg_use_id")
HELPER = exception(
    "ref-double-put.after-helper-put", "ref-double-put",
    "a put after a helper, not named as a put, dropped the function's last reference",
    """`get(x); helper(x); put(x);` is how the kernel pins an object across a call that
    may drop one of its other references: the lseg's on its layout
    (pnfs_layout_remove_lseg()), the list's (mpi3mr_tgtdev_del_from_list()), a queue's
    (fail_scsi_task()).  Nothing in the helper's body says which reference its put
    drops; a helper named as a put (`foo_put()`, `put_foo()`, `nfs_put_client()`)
    drops the caller's, and a second put after it is still reported.""",
    "ref_double_put.c:entry_finish", "ref_double_put.c:memcg_use_id")
EVERY_PATH = exception(
    "ref-double-put.extra-put-on-every-path", "ref-double-put",
    "a put beyond the function's own references, made on every path that had the "
    "object (demoted to a note)",
    """A function that drops one more reference than it took on every path that had
    the object drops one it owns by contract: the socket's final reference in a
    ->release() (`sock_hold(sk); ... sock_put(sk); sock_put(sk); /* final */`), the
    connection's own once it is unhashed, the list's after an unlink the analysis does
    not see.  Run even once, an unconditional extra put of a reference nobody owns
    underflows the counter, which refcount_t reports; the bugs that survive review are
    on the paths taken rarely, where another path with the object puts one less.""",
    "ref_double_put.c:memcg_drop_twice", "ref_double_put.c:objcg_drain",
    effect="demotes")

# (mark, object): the function's last reference on it went to a helper that puts on
# some paths only (_MAYBE), or to one not named as a put (_HELPER)
_MAYBE = "maybe-put"
_HELPER = "helper-put"
# (mark, variable): the variable holds an error pointer on this path (`IS_ERR(v)` taken)
_ERR = "\0err"
# (mark, object): this path put the object once more than it held; this path's put
# dropped the last reference it held on it
_OVER = "\0over"
_LAST = "\0last put"
# (mark, object): the object is also what a name holding no reference of this path's
# designates (`if (cur == memcg)` with `memcg` the caller's): it has references this
# function cannot count
_SHARED = "\0shared"
# (mark, object): its last reference went on this path (a dec-and-test returned true):
# what is called on it now is its release (`if (atomic_dec_and_test(&av->refcount))
# __put_anon_vma(av);`), not one more put
_GONE = "\0last reference gone"
# (mark, field, object, line): the function's own reference on the object went into a
# field (or a global) that outlives it, stored at that line; (mark, field, object, loc,
# callee): this path then dropped that reference while the field still points to it
_KEPT = "\0kept"
_PUT_KEPT = "\0put while kept"


@register
class RefDoublePut(Checker):
    """
    ## What it finds
    A put (`css_put()`, `mem_cgroup_put()`, `obj_cgroup_put()`, `shrinker_put()`,
    `kref_put()` …) on an object whose reference this path already dropped, on an
    object found under RCU for which no reference was ever taken on this path and
    none came in with a parameter, or on a variable that holds an error pointer on
    this path (`IS_ERR(index)` was true and nothing was assigned since): puts accept
    NULL, but only those that test for it themselves (`IS_ERR_OR_NULL()`, the model's
    `accepts_err`) accept an error pointer. Unlinking an object from a list or tree
    (`list_del_init()`, `rb_erase()`) gives back the reference the structure may
    have held: one more put is allowed per unlink. A reference known only from the function's own
    release of its taker's result (see ref-leak) is one of the function's, not
    necessarily the only one: a second put on it is not reported. Nor is a put after
    a helper dropped the function's last reference when the helper is not named as a
    put or puts on some of its paths only (`get(x); helper(x); put(x);` pins `x`
    across a call that drops one of its other references). A put past the function's
    own references that every path with the object makes (`sock_hold(sk); ...
    sock_put(sk); sock_put(sk); /* final */` in a `->release()`) drops a reference the
    function owns by contract: it is a note; the warning is for a path that puts once
    more than another path with the object does (an error path, a retry).

    A reference the function stored in a field of a structure its caller passed in
    belongs to that structure when another return leaves it
    there: a path that drops it and returns with the field still pointing to it (an
    error path after `fhp->fh_dentry = dentry;`) puts it once here and once more where
    the structure is released. Clearing or overwriting the field first, or freeing the
    structure, hands nothing over.

    ## Why is this bad
    Each put must pair with a get. An extra put drops a reference someone else owns:
    the object is freed while still in use (use-after-free), or the count
    underflows and the kernel warns.

    ## Example
    ```c
    if (!css_tryget(&memcg->css))
            goto out;
    ...
    css_put(&memcg->css);
    out:
    css_put(&memcg->css);               /* second put on the success path */
    ```

    ## Use instead
    Put exactly once per successful get; split error labels so that each put
    happens only on paths that took the reference.
    """

    rule = Rule(
        "ref-double-put", "RefDoublePut",
        "Reference dropped twice, or dropped when none is held",
        level="warning", precision="high", cwe=("CWE-415", "CWE-911"),
        tags=("refcount", "memory-safety"),
    )

    # per object, how many times this path unlinked it from a list or tree: each gives
    # back the reference the structure may have held, for one more put (a put counts
    # against these only once this function's own references are gone)
    slot = Slot(frozenset(), frozenset.intersection)

    def __init__(self, run) -> None:
        super().__init__(run)
        self.extra: list[tuple] = []  # puts past the function's own references

    def on_end(self, exit_states) -> None:
        self.report_kept(exit_states)
        for loc, message, st, k, waived in self.extra:
            # an exit whose path had the object (and released it) without the extra put
            # (a joined state's marks are those of all its paths: it shows nothing)
            fewer = any((_LAST, k) in self.get(s) and (_OVER, k) not in self.get(s)
                        for s in exit_states if not s.merged)
            self.run.waived = waived  # (an exception that would have silenced it)
            self.report(loc, message, st, obj=k, demote=None if fewer else EVERY_PATH)

    def report_kept(self, exit_states) -> None:
        """A put of a reference a field keeps, on a path that returns with the field
        still holding it, where another return leaves the reference to the field: that
        return says the field owns it, and whoever releases the structure drops it
        again."""
        owned = {m[1] for s in exit_states for m in self.get(s) if m[0] == _KEPT and
                 not any(p[0] == _PUT_KEPT and p[1] == m[1] for p in self.get(s))}
        for s in exit_states:
            for m in sorted((m for m in self.get(s) if m[0] == _PUT_KEPT),
                            key=lambda m: (m[3].line, m[1])):
                _, field, k, loc, callee, _ = m
                if field not in owned:
                    continue
                line = next((x[3] for x in self.get(s) if x[0] == _KEPT and x[1] == field),
                            None)
                self.report(loc, f"{callee}() drops the reference on `{k}` that "
                            f"`{field}` keeps (stored at line {line}), and the function "
                            f"returns with it still there: whatever releases `{field}` "
                            "drops it a second time", s, obj=k)

    def credits(self, st, k: str) -> int:
        return next((n for o, n in self.get(st) if o == k and isinstance(n, int)), 0)

    def credit(self, st, k: str, n: int):
        rest = frozenset(x for x in self.get(st) if not (x[0] == k and isinstance(x[1], int)))
        return self.put(st, rest | {(k, min(n, 4))} if n > 0 else rest)

    # --- error pointers ---------------------------------------------------------------
    def on_branch(self, st, subject, outcome):
        shared = self.shared(st, subject, outcome)
        if shared is not None:
            st = self.put(st, self.get(st) | {(_SHARED, shared)})
        v = self.run.err_tested(st, subject, outcome, strict=True)
        if v is not None:
            st = self.put(st, self.get(st) | {(_ERR, v)})
        call, fm = self.run.calls.get(subject.tmp, (None, None)) \
            if outcome and subject.kind == "call" and subject.tmp else (None, None)
        if fm is not None and fm.last and fm.put is not None and fm.put < len(call.args):
            k = ref_key(st, call.args[fm.put], fm)
            if k is not None:
                st = self.put(st, self.get(st) | {(_GONE, k)})
        return st

    @staticmethod
    def shared(st, subject, outcome) -> str | None:
        """Two pointers found equal, one holding this path's references and the other
        none (a parameter, a pointer loaded from a structure): the object the first
        designates has references of others too, and a put through the other name may
        drop one of those (the engine counts it against this path's first, see
        `lifetimes.one_object`).  Returns the object's key."""
        if subject.same is None or outcome == subject.neg:
            return None
        keys = [st.alias(n) or n for n in subject.same]
        held = [k for k in keys if st.refcount(k) > 0]
        others = [k for k in keys if st.refcount(k) <= 0 and k not in st.dropped
                  and k not in st.failed]
        return held[0] if len(held) == 1 and others else None

    def on_assign(self, st, ev):
        marks = self.get(st)
        if ev.target.kind == "var" and (_ERR, ev.target.text) in marks:
            marks = marks - {(_ERR, ev.target.text)}
        marks = self.restored(marks, ev.target)
        k = value_key(st, ev.value) if ev.target.kind != "var" else None
        if k is not None and st.refcount(k) > 0 and self.outlives(ev.target):
            marks = marks | {(_KEPT, ev.target.text, k, ev.loc.line, _place(ev.target))}
        return self.put(st, marks) if marks != self.get(st) else None

    def outlives(self, target) -> bool:
        """A field of what a parameter points to: the caller finds the stored pointer
        there, and releases it with the structure.  (A global's holder is whatever tears
        the subsystem down, which a failed init never reaches.)"""
        return target.kind == "field" and target.root in self.fn.params and \
            bool(target.path) and target.path[0].startswith("->")

    @staticmethod
    def restored(marks: frozenset, target) -> frozenset:
        """A store to a field a reference was kept in, or to the variable it was reached
        from, makes it point elsewhere: what it kept is no longer there."""
        root, path = _place(target)
        gone = {m for m in marks if m[0] in (_KEPT, _PUT_KEPT) and m[-1][0] == root and
                (target.kind == "var" or m[-1][1][:len(path)] == path)}
        return marks - gone if gone else marks

    def kept_put(self, st, ev, fm):
        """A put of the reference this path stored in a field that still holds it, or
        the release of the structure that holds it (which drops what it keeps)."""
        marks = self.get(st)
        if not any(m[0] == _KEPT for m in marks):
            return None
        gone = set()
        for i in (fm.frees, fm.put, fm.defers_free):
            a = ev.args[i] if i is not None and i < len(ev.args) else None
            if a is not None and a.root:
                gone |= {m for m in marks if m[0] in (_KEPT, _PUT_KEPT) and
                         m[-1][0] == a.root}
        # the object handed on to a list, a queue or a keeper after the store: the field
        # is a back-pointer (`cb_arg->io_req = req; ... list_add_tail(&req->link, q)`),
        # and the reference lives where it went
        for i in (fm.consumes, *fm.consumes_more,
                  fm.publishes[1] if fm.publishes is not None else None):
            a = ev.args[i] if i is not None and i < len(ev.args) else None
            k = kept_key(st, a) if a is not None else None
            if k is not None:
                gone |= {m for m in marks if m[0] == _KEPT and m[2] == k}
        marks = marks - gone
        if fm.put is not None and fm.put < len(ev.args):
            k = ref_key(st, ev.args[fm.put], fm)
            if k is not None and st.refcount(k) == 0:
                marks |= {(_PUT_KEPT, m[1], k, ev.loc, ev.callee, m[-1]) for m in marks
                          if m[0] == _KEPT and m[2] == k}
        return self.put(st, marks) if marks != self.get(st) else None

    def on_dead(self, st, ev):
        gone = {(_ERR, n) for n in ev.names} & self.get(st)
        return self.put(st, self.get(st) - gone) if gone else None

    def err_put(self, st, ev, fm) -> bool:
        """A put given a variable that holds an error pointer on this path."""
        a = ev.args[fm.put]
        if a.kind != "var" or fm.accepts_err or st.merged:
            return False
        c = st.const(a.text)
        if (_ERR, a.text) not in self.get(st) and not (c is not None and c < 0):
            return False
        self.report(ev.loc, f"{ev.callee}() is given `{a.text}`, an error pointer on this "
                    "path: there is no reference to drop, and the put dereferences it", st,
                    obj=a.text)
        return True

    def on_call(self, st, ev, fm):
        kept = self.kept_put(st, ev, fm) if fm is not None else None
        st = kept or st
        out = self.check_put(st, ev, fm) or kept
        if fm is not None and fm.put is not None and fm.put < len(ev.args):
            k = ref_key(st, ev.args[fm.put], fm)
            if k is not None and st.refcount(k) == 1:
                # the put that drops the function's last reference, if it is a helper's
                marks = {(_MAYBE, k)} if fm.put_maybe else set()
                marks.add((_LAST, k))
                if self.unnamed_helper(ev.callee):
                    marks.add((_HELPER, k))
                if marks:
                    base = out if out is not None else st
                    return self.put(base, self.get(base) | marks)
        return out

    def unnamed_helper(self, name: str | None) -> bool:
        """An analysed body that puts its argument, named as nothing of the kind."""
        model = self.run.model
        return bool(name) and model.fn(name) is None and self.run.lookup is not None \
            and self.run.lookup(name) is not None and not model.names_a_put(name) \
            and not model.names_a_put_inside(name)

    def check_put(self, st, ev, fm):
        if fm is not None and fm.takes_back is not None and fm.takes_back < len(ev.args):
            k = ref_key(st, ev.args[fm.takes_back], fm)
            if k is not None:
                return self.credit(st, k, self.credits(st, k) + 1)
        if fm is None or fm.put is None or fm.put >= len(ev.args):
            return None
        if self.err_put(st, ev, fm):
            return None
        a = ev.args[fm.put]
        k = ref_key(st, a, fm)
        if k is None or st.refcount(k) > 0 or k in st.failed:
            return None
        if st.merged:
            return None
        if (_SHARED, k) in self.get(st):
            return None  # (the object has references this function cannot count)
        if (_GONE, k) in self.get(st):
            return None  # the release its last put guards, named as a put
        if k in st.dropped and self.credits(st, k) > 0:
            # `list_del_init(&bg->dirty_list); btrfs_put_block_group(bg);`: the list's
            # reference ("once for the caching bgs list and once for us")
            return self.credit(st, k, self.credits(st, k) - 1)
        if k in st.dropped:
            # (this path puts past its own references, reported or not: see `on_end`)
            over = self.put(st, self.get(st) | {(_OVER, k)})
            if (_MAYBE, k) in self.get(st) and self.run.allows(MAYBE):
                return over  # dropped by a helper that puts on some paths only
            if (_HELPER, k) in self.get(st) and self.run.allows(HELPER):
                return over  # dropped by a helper whose put may be of another reference
            if believed(self.run, st, k) is not None and self.run.allows(NOT_ONLY):
                # one reference is known to be this function's; others it cannot see
                # (the parent's, a list's) may be what the earlier put dropped
                return over
            # (reported at the end: whether another path with the object puts it once
            # less decides the level)
            self.extra.append((ev.loc, f"{ev.callee}() drops a reference on `{k}` that "
                               "this path already released", st, k, self.run.waived))
            return over
        p = st.ptr(k)
        # a put a summary inferred may be conditional on another count (an ID reference
        # that pins the css): only the model's puts are certain enough here
        if p is not None and p[0] == "rcu" and is_local(self.fn, k) and k not in st.walks \
                and not fm.inferred:
            self.report(ev.loc, f"{ev.callee}() on `{k}`, found under RCU, with no "
                        "reference taken on this path", st, obj=k)
        return None



def _place(target) -> tuple:
    """Where a store goes, as the variable it starts from and the access path after it
    (`("fh", ("->dent",))`); a path the lowering could not follow is its own place."""
    return (target.root or target.text, target.path if target.path is not None
            else (target.text,))
