"""Reference and provenance transfer: what keeps a pointer's object alive.

The engine calls these after the read-side effects of an event.  They keep, per
path: references held on each object (keyed so that `memcg`, `&memcg->css` and an
alias `css = &memcg->css` meet), pointers loaded inside a read-side section and
whether that section has ended, RCU list-walk cursors, and hand-offs (a reference
returned or stored is no longer this function's to drop).
"""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.engine.state import State, replace
from analyzer.ir import Assign, Call, Loc, Val, Walk
from analyzer.model import FnModel


def obj_key(st: State, val: Val) -> str | None:
    """The object an expression designates for reference counting.

    `&memcg->css` (an embedded refcounted member) designates `memcg`; a variable
    designates itself, or what it aliases.
    """
    if val.member_of_root and val.root:
        # `&memcg->css`, and members of embedded structures: `&net->ns.count`
        return st.alias(val.root) or val.root
    if val.kind in ("var", "global"):
        return st.alias(val.text) or val.text
    if val.kind == "call" and val.tmp:
        return st.alias(val.tmp)  # an accessor's result: the object its path names
    return None


def projected(st: State, ev: Call, projects: tuple[int, str]) -> State:
    """`tfile_ctx(src)` returns what `src->priv` holds: its result names that object,
    as `src->priv` itself does, while neither `src` nor the field changes."""
    i, label = projects
    a = arg(ev, i)
    if a is None or not ev.result:
        return st
    base = st.alias(a.text) or a.text if a.kind in ("var", "global") else \
        path_key(st, a) if a.kind == "field" else \
        st.alias(a.tmp) if a.kind == "call" and a.tmp else None
    if base is None:
        return st
    key = st.alias(base + label) or base + label
    return replace(st, aliases=frozenset(x for x in st.aliases if x[0] != ev.result) |
                   {(ev.result, key)})


def arg(ev: Call, index: int | None) -> Val | None:
    if index is None or index >= len(ev.args):
        return None
    return ev.args[index]


def ref_key(st: State, val: Val, fm: FnModel) -> str | None:
    """The object a get, tryget or put acts on.  For `pins_container`, the object the
    field points to, named through its container (`dev->driver->module`): a counter
    of its own, apart from the container's (`comedi_dev_put(dev)` is not a module put),
    whose reference keeps the container alive (`State.pinned`)."""
    if fm.pins_container and val.kind == "field" and val.root:
        root = st.alias(val.root) or val.root
        if val.text.startswith(val.root + "->"):
            return root + val.text[len(val.root):]
        return root
    return obj_key(st, val)


def path_key(st: State, val: Val, resolve: bool = True) -> str | None:
    """`params->prog`, `&d->notify->kref`: the object a pointer loaded through members
    designates, named by its access path from a variable (`d->notify`).  The name holds
    while neither the variable nor a member on the path gets a new value (`forget_var`,
    `_path_stored`)."""
    path = val.path
    if not path or not val.root or not path[0].startswith("->") or \
            not all(s.startswith(("->", ".")) and s.lstrip("-.>") for s in path):
        return None
    if val.kind == "field":
        steps = path
    elif val.kind == "addr":
        # `&d->notify->kref`: the address of a member of what the last `->` reaches
        last = max(i for i, s in enumerate(path) if s.startswith("->"))
        if last == 0:
            return None  # a member of the variable's own object (`obj_key`)
        steps = path[:last]
    else:
        return None
    k = (st.alias(val.root) or val.root) + "".join(steps)
    # (a variable that holds what the path names, see `projected`; not for a store to
    # the path, which makes it name something else)
    return st.alias(k) or k if resolve else k


def held_key(st: State, val: Val, fm: FnModel) -> str | None:
    """The object a get, tryget or put acts on, named by an access path where no
    variable names it (`bpf_prog_inc(params->xdp_prog)`)."""
    return ref_key(st, val, fm) or path_key(st, val)


def held_path(st: State, val: Val) -> str | None:
    """The access path of an object this path holds a reference on, passed or stored."""
    k = path_key(st, val)
    return k if k is not None and st.refcount(k) > 0 else None


# the handle label of what a pointer-to-pointer parameter's target points to
THROUGH = "*"


def through_param(val: Val) -> str | None:
    """`&(*m)->refcount`, `*m`: the object the pointer `*m` points to, named through the
    variable `m` that holds the pointer (`foo_put(struct foo **m)`)."""
    path = val.path or ()
    if path[:1] == (THROUGH,) and all(s.startswith(("->", ".")) for s in path[2:]) and \
            ((val.kind == "deref" and len(path) == 1) or
             (val.kind == "addr" and len(path) > 1 and path[1].startswith("->"))):
        return val.root
    return None


def field_root(k: str) -> str | None:
    """The container a `pins_container` reference's key names its object through."""
    root, sep, _ = k.partition("->")
    return root if sep else None


def local_structure(val: Val | None, locals_) -> bool:
    """`&tmp_list`, `&ctx.list`: the address of (a member of) a structure on this
    function's stack, not a global's or one reached through a pointer."""
    return val is not None and val.kind == "addr" and "->" not in val.text and \
        val.root in locals_


def keeper(ev: Call, fm: FnModel, locals_) -> str | None:
    """The structure whose reference a tracked get takes or a tracked put drops: the one
    the tracker argument is a member of (`netdev_put(dev, &q->dev_tracker)` drops `q`'s
    reference).  None for a tracker on this function's stack, one its caller passed, or
    none: the reference is then the function's own."""
    a = arg(ev, fm.owner)
    if a is None or a.is_null or a.kind != "addr" or not a.path or \
            local_structure(a, locals_):
        return None
    return a.text.removeprefix("&")


def kept_reference(st: State, ev: Call, fm: FnModel, kept: str) -> State:
    """A get or put through a structure's tracker: the structure's reference, which this
    path neither owes nor may drop for its caller.  A get still pins the object (what the
    structure keeps outlives a read-side section) and pays a pointer stored just before."""
    a = arg(ev, fm.get)
    k = (held_key(st, a, fm) if a is not None else None) or \
        (ev.result if fm.returns_ref and ev.result else None)
    if k is not None and (fm.get is not None or fm.returns_ref):
        st = replace(st, owed=st.owed - {k}, dropped=st.dropped - {k},
                     failed=st.failed - {k},
                     ref_origin=(*st.ref_origin, (k, ev.loc, f"{ev.callee}()")))
        return st.note(ev.loc, f"{ev.callee}() takes a reference on {_named(k)} that "
                       f"`{kept}` keeps", about=k)
    a = arg(ev, fm.put)
    k = held_key(st, a, fm) if a is not None else None
    if k is not None:
        return st.note(ev.loc, f"{ev.callee}() drops the reference `{kept}` keeps on "
                       f"{_named(k)}", about=k)
    return st


def out_param(fn, ev: Assign) -> str | None:
    """The pointer parameter `dst` a store `*dst = x` hands its caller a value through."""
    t = ev.target
    if ev.ptr and t.kind == "deref" and t.root in fn.params and t.text == "*" + t.root:
        return t.root
    return None


def on_call(st: State, ev: Call, fm: FnModel | None, in_section: bool,
            locals_: frozenset[str] = frozenset(),
            holders: frozenset[str] = frozenset()) -> State:
    if fm is None:
        return st
    a = arg(ev, fm.put)
    if a is not None:
        k = held_key(st, a, fm)
        if k is not None:
            if fm.put_if and ev.result:
                # (`if (refcount_dec_not_one(r)) return;`: the branch that shows it
                # returned false gives the reference back, see `on_branch`)
                kind = KEPT if st.refcount(k) > 0 else KEPT_CALLERS
                st = replace(st, pending=st.pending | {(ev.result, kind, k)})
            st = drop(st, k, ev.loc, f"{ev.callee}()")
    a = arg(ev, fm.get)
    if a is not None:
        # (`get_ctx(file_ctx(f))` returns its argument: the result carries the reference
        # to the variable it is assigned to, which the accessor's path then names too)
        k = ref_key(st, a, fm) if not (a.kind == "call" and fm.same_object == fm.get
                                       and ev.result) else None
        if k is None and a.kind in ("field", "addr") and \
                not (fm.same_object == fm.get and ev.result):
            k = path_key(st, a)  # (`bpf_prog_inc(params->xdp_prog)`, `&d->notify->kref`)
        if k is None and a.kind in ("call", "field") and fm.same_object == fm.get:
            # `get_net(sock_net(sk))`, `get_device(fwnode->dev)`: the object has no name
            # yet; the call's result, the same object, carries the reference to where
            # it is assigned, stored or returned
            k = ev.result
        if k is not None:
            st = take(st, k, ev.loc, f"{ev.callee}()")
    if fm.publishes is not None:
        where, what = arg(ev, fm.publishes[0]), arg(ev, fm.publishes[1])
        k = value_key(st, what) if what is not None and not what.is_null else None
        if k is not None:
            # readers find it there now: a reference the function held goes with it
            st = hand_off(st, k, ev.loc, f"published in `{where.text if where else '?'}`")
    # (a structure on the stack keeps it only while the function runs, unless the
    # function gives the structure to a call that may empty it)
    kept_here = fm.into is not None and local_structure(arg(ev, fm.into), holders)
    for index in (fm.consumes, *fm.consumes_more):
        a = arg(ev, index)
        if a is None or kept_here:
            continue
        k = kept_key(st, a)
        if k is not None and st.refcount(k) <= 0 and fm.into is not None and \
                not fm.consumes_if:
            # linked into a structure before the reference that goes with it is taken
            # (`list_add(&lapb->node, &lapb_list); lapb_hold(lapb);`): the get that
            # follows is the structure's
            st = hand_off(st, k, ev.loc, f"passed to {ev.callee}(), which keeps it")
        elif k is not None and st.refcount(k) > 0:
            st = hand_off(st, k, ev.loc, f"passed to {ev.callee}(), which keeps it")
            if fm.consumes_if and ev.result:
                # kept only if the call succeeds: the branch that shows it failed gives
                # the reference back
                st = replace(st, pending=st.pending | {(ev.result, "back " + fm.consumes_if,
                                                        k)})
    st = freed(st, arg(ev, fm.frees), ev)
    # (`xfrm_policy_destroy(xp)` on an object never published: a free after a grace
    # period disposes of the references held on it as well)
    st = freed(st, arg(ev, fm.defers_free), ev)
    if fm.returns_ref and ev.result:
        # the result carries a new reference until it is assigned, stored or returned
        st = take(st, ev.result, ev.loc, f"{ev.callee}()")
    a = arg(ev, fm.tryget)
    if a is not None:
        k = ref_key(st, a, fm)
        if k is None and a.kind in ("field", "addr") and \
                not (fm.same_object == fm.tryget and ev.result):
            k = path_key(st, a)  # (`if (!try_get(&d->notify->ref))`)
        if k is not None:
            st = replace(st, pending=st.pending | {(ev.result, "ref", k)},
                         ref_origin=(*st.ref_origin, (k, ev.loc, f"{ev.callee}()")))
        elif fm.same_object == fm.tryget and ev.result:
            # `xps = xprt_switch_get(rcu_dereference(clnt->xps))`: a tryget that returns
            # its unnamed argument or NULL: the result carries the reference, and a NULL
            # one none
            st = take(st, ev.result, ev.loc, f"{ev.callee}()")
    a = arg(ev, fm.out_ref)
    if a is not None and a.kind == "addr" and a.text == "&" + str(a.root) and \
            a.root in locals_:
        # `err = lookup(..., &dst)`: the local now holds a reference, from the call on
        # or (out_ref_if "ok") from the branch where the call returned 0
        if fm.out_ref_if:
            st = replace(st, pending=st.pending | {(ev.result, "~ref", a.root)},
                         ref_origin=(*st.ref_origin, (a.root, ev.loc, f"{ev.callee}()")))
        else:
            st = take(st, a.root, ev.loc, f"{ev.callee}()")
    return st


def freed(st: State, a: Val | None, ev: Call) -> State:
    """The object is freed (`kfree(rq)`, or the release a kref_put() names called
    directly: `treq_destroy(&rq->ref)` on a path where nobody else has the object): the
    references this path held on it are gone with it, none is left to leak."""
    k = obj_key(st, a) if a is not None else None
    n = st.refcount(k) if k is not None else 0
    if n <= 0:
        return st
    st = replace(st.with_refcount(k, 0), dropped=st.dropped | {k})
    return st.note(ev.loc, f"{ev.callee}() frees `{k}`, and the {_count(n)} this path "
                   "held on it with it", about=k)


def _count(n: int) -> str:
    return "reference" if n == 1 else f"{n} references"


def is_result(k: str) -> bool:
    """A call's result not yet named by a variable (the engine's `%N`)."""
    return k.startswith("%")


def _named(k: str) -> str:
    return "the object a call returned" if is_result(k) else f"`{k}`"


def drop(st: State, k: str, loc: Loc, api: str) -> State:
    """A put: one reference on `k` fewer."""
    n = st.refcount(k)
    if n > 0:
        st = st.with_refcount(k, n - 1)
        if n == 1:
            st = replace(st, dropped=st.dropped | {k})
    return st.note(loc, f"{api} drops a reference on {_named(k)}", about=k)


def handle(base: str, label: str) -> str:
    """The key of the object reached from `base` by the field paths of `label`."""
    return f"{base}⟨{label}⟩"


def param_handles(fn) -> dict[str, tuple[int, str]]:
    """Locals that only ever hold a pointer loaded from fields of one parameter.

    `cgrp = kn->priv` on one path and `cgrp = kn->parent->priv` on the other make
    `cgrp` the object reached from parameter `kn` by "->parent->priv|->priv": a callee
    that returns (or puts) such a local relates its caller's object to the argument
    it passed, so a reference taken through one handle and dropped through another
    (cgroup_kn_lock_live()/cgroup_kn_unlock()) meets.
    """
    paths: dict[str, set] = {}
    bad: set[str] = set()
    for b in fn.blocks:
        for ev in b.events:
            if not isinstance(ev, Assign) or ev.target.kind != "var":
                continue
            name, value = ev.target.text, ev.value
            root = value.root
            if value.kind == "field" and root in fn.params and value.text.startswith(root) \
                    and ev.ptr:
                paths.setdefault(name, set()).add((fn.params.index(root),
                                                   value.text[len(root):]))
            elif not value.is_null:
                bad.add(name)
    out = {}
    for name, ps in paths.items():
        if name in bad or name in fn.params or len({i for i, _ in ps}) != 1:
            continue
        out[name] = (next(iter(ps))[0], "|".join(sorted(p for _, p in ps)))
    return out


def take(st: State, k: str, loc: Loc, api: str) -> State:
    if k in st.owed:
        # the pointer was stored just before: this is the reference that goes with it
        return replace(st, owed=st.owed - {k}).note(
            loc, f"{api} takes the reference that the stored `{k}` owns", about=k)
    st = st.with_refcount(k, st.refcount(k) + 1)
    st = replace(st, dropped=st.dropped - {k}, failed=st.failed - {k},
                 ref_origin=(*st.ref_origin, (k, loc, api)))
    if is_result(k):
        return st.note(loc, f"{api} returns an object with a reference taken", about=k)
    return st.note(loc, f"{api} takes a reference on `{k}`", about=k)


def hand_off(st: State, k: str, loc: Loc, how: str) -> State:
    """One reference leaves with the pointer (returned, stored, consumed)."""
    n = st.refcount(k)
    if n > 0:
        return st.with_refcount(k, n - 1).note(loc, f"the reference on {_named(k)} is {how}",
                                               about=k)
    return replace(st, owed=st.owed | {k})


def value_key(st: State, value: Val) -> str | None:
    """The object a stored or returned value carries (`(unsigned long)objcg | FLAG` too)."""
    if value.neg or value.truth:
        return None
    if value.kind in ("var", "global"):
        return obj_key(st, value)
    if value.kind == "addr" and obj_key(st, value) is not None:
        return obj_key(st, value)  # `new->key = &mkey->key`: a pointer into mkey's object
    if value.kind == "call" and value.tmp and st.refcount(value.tmp) > 0:
        return value.tmp  # a call's result that carries a reference (see `on_call`)
    if value.kind == "call" and value.tmp and st.alias(value.tmp):
        return st.alias(value.tmp)  # an accessor's result (see `projected`)
    if value.kind in ("other", "call") and value.root:
        return st.alias(value.root) or value.root
    return held_path(st, value)


def kept_key(st: State, a: Val) -> str | None:
    """The object an argument a callee keeps carries (`&p->node` linked: `p`)."""
    return (value_key(st, a) if a.kind != "addr" else obj_key(st, a)) or held_path(st, a)


def forget_var(st: State, name: str) -> State:
    """`name` gets a new value: its provenance, alias and walk state go, and so do the
    aliases of its old value (`p = leader; leader = next(...)`: p is not leader now)."""
    ptrs = frozenset(p for p in st.ptrs if p[0] != name)
    aliases = frozenset(a for a in st.aliases if name not in a)
    derived = frozenset(d for d in st.derived if d[0] != name)
    # (and what was known of the objects its old value's fields point to: `pe->module`
    # of the walk's previous element is not the next one's; a reference on one kept when
    # the function returns is the object's own, see ref-leak)
    gone = {name} | {k for k in (*st.failed, *st.dropped, *st.owed) if field_root(k) == name}
    for k, n in st.refs:
        if n > 0 and field_root(k) == name:
            st = st.with_refcount(k, 0)
    return replace(st, ptrs=ptrs, aliases=aliases, derived=derived, walks=st.walks - {name},
                   failed=st.failed - gone, dropped=st.dropped - gone, owed=st.owed - gone)


def on_assign(st: State, ev: Assign, calls: dict[str, tuple[Call, FnModel | None]],
              in_section: bool, temps=(), in_reader: bool | None = None) -> State:
    target, value = ev.target, ev.value
    if target.kind != "var":
        # a store into memory that outlives this function: a reference travels with it
        k = value_key(st, value)
        if k is not None and not (target.kind == "field" and target.root == k):
            st = hand_off(st, k, ev.loc, f"stored in `{target.text}`")
        return _path_stored(st, target, temps)
    name = target.text
    call, fm = calls.get(value.tmp, (None, None)) if value.tmp else (None, None)
    if fm is not None and fm.same_object is not None and value.kind == "call":
        a = arg(call, fm.same_object)
        if a is not None and a.kind == "var" and obj_key(st, a) == (st.alias(name) or name):
            # `dev = get_device(dev)`: the same object under the same name, its other
            # names (`kobj = &dev->kobj`) and its references unchanged
            return st
    src_key = obj_key(st, value) if value.kind in ("var", "global") and not value.neg \
        else None
    named = obj_key(st, value) if value.kind == "call" and ev.ptr else None
    st = handover(st, name, temps)
    st = forget_var(st, name)
    if st.refcount(name) > 0 and src_key != name:
        st = st.with_refcount(name, 0)
    if named is not None and named != name and st.refcount(value.tmp) <= 0:
        # `c = tfile_ctx(f)`: the object `f->priv` names (see `projected`)
        st = replace(st, aliases=st.aliases | {(name, named)})
    if fm is not None and fm.returns_pin and value.kind == "call":
        # `ops = tcf_proto_lookup_ops(...)`: the module behind `ops->owner` is pinned
        st = take(st, name + fm.returns_pin, ev.loc, f"{call.callee}()")
    if value.kind == "call" and value.tmp and st.refcount(value.tmp) > 0:
        # the reference a get took on the object the call returns moves to its name
        origin = st.lookup(st.ref_origin, value.tmp)
        st = st.with_refcount(value.tmp, 0).with_refcount(name, st.refcount(name) + 1)
        if origin is not None:
            st = replace(st, ref_origin=(*st.ref_origin, (name, *origin[1:])))
        a = arg(call, fm.same_object) if fm is not None else None
        path = obj_key(st, a) if a is not None and a.kind == "call" else None
        if path is not None and path != name and field_root(path) is not None:
            # `ctx = get_ctx(tfile_ctx(f))`: `f->priv` names the object `ctx` holds
            st = replace(st, aliases=st.aliases | {(path, name)})
        return st
    if value.kind == "rcu" and in_section:
        st = _loaded(st, name, "rcu", ev.loc, value.text)
    elif fm is not None and fm.returns_rcu and (
            in_section if fm.requires or in_reader is None else in_reader):
        # (a lookup that needs no section of its own, `idr_find()`, `xa_load()`, called
        # under a spinlock with no reader's section: the update side's lock keeps what it
        # returns, not RCU)
        kind = "pinned" if fm.returns_rcu == "pinned" else "rcu"
        st = _loaded(st, name, kind, ev.loc, f"{call.callee}()")
    elif fm is not None and fm.returns_ref:
        st = take(st, name, ev.loc, f"{call.callee}()")
    elif fm is not None and fm.same_object is not None:
        a = arg(call, fm.same_object)
        k = obj_key(st, a) if a is not None else None
        if k is not None and k != name:
            st = replace(st, aliases=st.aliases | {(name, k)})
            p = st.ptr(a.root) if a.root else None
            if p is not None:
                st = replace(st, ptrs=st.ptrs | {(name, p[0], p[1])})
                origin = st.lookup(st.ptr_origin, a.root)
                if origin is not None:
                    st = replace(st, ptr_origin=(*st.ptr_origin, (name, *origin[1:])))
    elif value.kind in ("var", "global") and ev.ptr and not value.neg:
        src = value.text
        p = st.ptr(src)
        if p is not None:
            st = replace(st, ptrs=st.ptrs | {(name, p[0], p[1])})
            origin = st.lookup(st.ptr_origin, src)
            if origin is not None:
                st = replace(st, ptr_origin=(*st.ptr_origin, (name, origin[1], origin[2])))
        if src_key is not None and src_key != name:
            st = replace(st, aliases=st.aliases | {(name, src_key)})
    elif value.kind == "addr" or (value.kind == "other" and ev.ptr and value.root and
                                  value.container and st.ptr(value.root) is None):
        # `&memcg->css`, and container_of()'s `__mptr - offset` of a member that was not
        # found under RCU (an RCU cursor's container keeps its own provenance): one object
        k = obj_key(st, value) if value.kind == "addr" else \
            (st.alias(value.root) or value.root)
        if k is not None and k != name:
            st = replace(st, aliases=st.aliases | {(name, k)})
    held = held_path(st, value) if value.kind == "field" and ev.ptr else None
    if held is not None and held != name:
        # `prog = params->prog` after `bpf_prog_inc(params->prog)`: one object
        st = replace(st, aliases=st.aliases | {(name, held)})
    if value.kind == "field" and ev.ptr and value.root and value.root != name:
        # `uobject = f->private_data` with a reference held on f: f's reference keeps
        # what was reached from it alive
        src = st.alias(value.root) or value.root
        if st.refcount(src) > 0:
            st = replace(st, derived=st.derived | {(name, src)})
    if value.kind in ("field", "other", "call") and ev.ptr and value.root \
            and value.root != name and st.ptr(name) is None:
        src = st.alias(value.root) or value.root
        p = st.ptr(value.root) or st.ptr(src)
        if p is not None and not p[1]:
            st = _loaded(st, name, "field", ev.loc, value.text)
            st = replace(st, derived=st.derived | {(name, src)})
    return st


def _path_stored(st: State, target: Val, temps=()) -> State:
    """`d->notify = NULL`: the access path names another object from here on.  A
    variable that took the old one over (`n = d->notify`) keeps its references; with
    none, what the path held is no longer this function's to account for."""
    tk = path_key(st, target, resolve=False) if target.kind == "field" else None
    if tk is None:
        return st
    for k, n in st.refs:
        if n > 0 and (k == tk or k.startswith((tk + "->", tk + "."))):
            st = handover(st, k, temps)
            if st.refcount(k) > 0:
                st = st.with_refcount(k, 0)
    return replace(st, aliases=frozenset(a for a in st.aliases if tk not in (a[0], a[1])))


def _loaded(st: State, name: str, kind: str, loc: Loc, what: str) -> State:
    return replace(st, ptrs=st.ptrs | {(name, kind, False)},
                   ptr_origin=(*st.ptr_origin, (name, loc, what)))


def on_walk(st: State, ev: Walk, in_section: bool, stated: bool = False, temps=()) -> State:
    """A walk's cursor is an RCU pointer, unless the walk states the lock that guards it."""
    name = ev.cursor.text
    # the cursor moves to another element: a variable that kept the last one keeps its
    # reference (`last_wb = wb`), and what was known of it goes
    st = handover(st, name, temps)
    st = forget_var(st, name)
    if st.refcount(name) > 0:
        st = st.with_refcount(name, 0)
    if stated or not in_section:
        # a walk that states its lock, or runs in a section the caller holds
        return st
    st = replace(st, walks=st.walks | {name},
                 ptrs=st.ptrs | {(name, "rcu", not in_section)},
                 ptr_origin=(*st.ptr_origin, (name, ev.loc, f"{ev.macro}()")))
    return st


LOOKUP_UNDER_LOCK = exception(
    "rcu-use-after-unlock.lookup-under-lock", "rcu-use-after-unlock",
    "a lookup that needs no section of its own, made under a spinlock with no reader's "
    "section, returns what the lock protects, not an RCU pointer",
    """`idr_find()`, `xa_load()`, `radix_tree_lookup()` and the pid lookups may be called
    under rcu_read_lock() or under the lock their table's updates take (include/linux/
    idr.h, Documentation/core-api/xarray.rst "Locking"; include/linux/pid.h "Must be
    called with the tasklist_lock or rcu_read_lock() held").  A spinlock also makes a
    vanilla RCU reader, but code that takes one around such a lookup relies on the lock:
    what it returns is the table's while the lock is held, and the caller's once it is
    taken off the table (`idr_remove()`) or a reference is taken under the lock.  A
    lookup inside rcu_read_lock() (or `rcu_read_lock_bh()`, or asserted) is the RCU
    idiom and stays an RCU pointer.""",
    "rcu_use_after_unlock.c:node_take_locked", "rcu_use_after_unlock.c:node_lookup_late_get",
    attributed=False)
RETURNED_WITH_CONTAINER = exception(
    "ref-leak.returned-with-container", "ref-leak",
    "a reference on an object is handed to the caller with an object reached from it",
    """`f = fget(fd); uobj = f->private_data; return uobj;`: the file's reference keeps
    the returned object alive and the caller drops it with the object
    (drivers/infiniband/core/rdma_core.c, lookup_get_fd_uobject()).""",
    "ref_leak_believed.c:tnode_from_fd", "ref_leak_believed.c:tnode_set_flags",
    attributed=False)


def on_return(st: State, value: Val | None, loc: Loc, with_container: bool = True) -> State:
    if value is not None:
        k = value_key(st, value)
        if k is not None:
            if value.kind == "var" and with_container:
                # an object reached from a referenced one, returned with that reference
                # still held: the reference keeps it alive for the caller, with or
                # without one of its own (`f = fget(fd); uobj = f->private_data;
                # uverbs_uobject_get(uobj); return uobj;`)
                for var, src in sorted(st.derived):
                    if var == value.text and src != k and st.refcount(src) > 0:
                        st = hand_off(st, src, loc,
                                      f"kept with `{value.text}`, returned to the caller")
            st = hand_off(st, k, loc, "returned to the caller")
    return st


def handover(st: State, name: str, temps=()) -> State:
    """`name` stops holding its object; another variable that aliases it takes over.

    After `victim = p;` the reference taken on `p` lives on in `victim` when `p` is
    reused (oom_kill's `get_task_struct(p); victim = p;`).
    """
    # (an access path that names the object, `f->priv`, is no variable to inherit it)
    heirs = sorted(v for v, o in st.aliases if o == name and v != name and v not in temps
                   and field_root(v) is None)
    if not heirs or st.refcount(name) <= 0:
        return st
    heir = heirs[0]
    n = st.refcount(name)
    st = st.with_refcount(name, 0).with_refcount(heir, st.refcount(heir) + n)
    aliases = frozenset((v, heir if o == name else o) for v, o in st.aliases if v != heir)
    origin = st.lookup(st.ref_origin, name)
    if origin is not None:
        st = replace(st, ref_origin=(*st.ref_origin, (heir, origin[1], origin[2])))
    return replace(st, aliases=aliases)


def on_dead(st: State, names: tuple[str, ...], temps=()) -> State:
    for name in names:
        st = handover(st, name, temps)
        st = forget_var(st, name)
        if st.refcount(name) > 0:
            st = st.with_refcount(name, 0)
    return st


def on_section_closed(st: State, loc: Loc) -> State:
    """Every vanilla section has ended: pointers loaded under RCU are now stale."""
    if not st.ptrs:
        return replace(st, section_end=loc)
    return replace(st, ptrs=frozenset((n, k, True) for n, k, _ in st.ptrs), section_end=loc)


def on_section_opened(st: State) -> State:
    """A new section protects what a reference kept alive across the unlocked window."""
    ptrs = frozenset((n, k, stale and not st.pinned(n)) for n, k, stale in st.ptrs)
    return replace(st, ptrs=ptrs)


# pending effects of a conditional put (`put_if`): on the branch that shows it did not
# happen, the reference the function held (KEPT) is held again; the caller's
# (KEPT_CALLERS) was never the function's to count, only its summary observer's
KEPT = "kept"
KEPT_CALLERS = "kept by caller"


def kept_by(st: State, subject: Val, outcome: bool) -> list[tuple[str, str, str]]:
    """The conditional puts this branch shows did not happen."""
    key = subject.tmp if subject.kind == "call" else subject.text
    return [p for p in st.pending if p[0] == key and
            p[1].lstrip("~") in (KEPT, KEPT_CALLERS) and outcome == p[1].startswith("~")]


def on_branch(st: State, subject: Val, outcome: bool, loc: Loc) -> State:
    key = subject.tmp if subject.kind == "call" else subject.text
    shown = kept_by(st, subject, outcome)
    for p in [p for p in st.pending if p[0] == key and
              p[1].lstrip("~") in (KEPT, KEPT_CALLERS)]:
        st = replace(st, pending=st.pending - {p})
        if p in shown and p[1].lstrip("~") == KEPT:
            k = p[2]
            st = st.with_refcount(k, st.refcount(k) + 1)
            st = replace(st, dropped=st.dropped - {k}).note(
                loc, f"the conditional put leaves the reference on {_named(k)} on this "
                "branch", about=k)
    effects = [p for p in st.pending if p[0] == key and p[1].lstrip("~") == "ref"]
    nonzero = outcome
    if not effects and subject.op is not None and subject.op[2] == 0:
        # `err < 0`, `err != 0` of a result that is 0 or -errno: whether it is non-zero
        truth = {"!=": outcome, "==": not outcome, "<": outcome,
                 ">=": not outcome}.get(subject.op[0])
        if truth is not None:
            effects = [p for p in st.pending if p[0] == subject.op[1] and p[1] == "~ref"]
            nonzero = truth
    st = _given_back(st, subject, outcome, loc)
    for k, kind, obj in effects:
        st = replace(st, pending=st.pending - {(k, kind, obj)})
        if nonzero != kind.startswith("~"):
            api = st.lookup(st.ref_origin, obj)
            st = take(st, obj, api[1] if api else loc, api[2] if api else "tryget")
        else:
            st = replace(st, failed=st.failed | {obj})
            st = st.note(loc, f"the tryget on `{obj}` fails on this branch", about=obj)
    if not outcome and subject.kind == "var":
        st = no_object(st, subject.text)  # the pointer is NULL here
    if subject.same is not None and outcome != subject.neg:
        st = one_object(st, *subject.same, loc)
    return st


# (comparison with 0, outcome) -> the value is negative: True, or not: False
SIGN_SHOWN = {("<", True): True, ("<", False): False, (">=", True): False,
              (">=", False): True}
# ... read as the callee's failure or success (`if (ret > 0)` after `idr_alloc()` from 1)
_NEGATIVE = {("<", True): True, ("<", False): False, (">=", True): False,
              (">=", False): True, (">", True): False, (">", False): True,
              ("<=", True): True, ("<=", False): False}
# ... the value is non-zero
_NONZERO = {("!=", True): True, ("!=", False): False, ("==", True): False,
            ("==", False): True, ("<", True): True, (">=", False): True,
            (">=", True): False, ("<", False): False}


def shown_failed(st: State, subject: Val, outcome: bool) -> list[tuple[tuple, bool]]:
    """The conditional stores (`consumes_if`) this branch tests, each with whether it
    shows the store failed.  `ret > 0` after `idr_alloc()` reads as success (ids the
    caller asked to start above 0)."""
    if subject.op is not None and subject.op[2] == 0:
        key, op = subject.op[1], subject.op[0]
    elif subject.op is None:
        key, op = subject.tmp if subject.kind == "call" else subject.text, None
    else:
        return []
    out = []
    for p in [p for p in st.pending if p[0] == key and p[1].lstrip("~").startswith("back ")]:
        cond = p[1].lstrip("~").split(" ", 1)[1]
        truth = outcome != p[1].startswith("~")
        if op is None:
            # `if (err)`; an id may be 0; `if (!queued)`
            failed = truth if cond == "ok" else (not truth) if cond == "true" else None
        elif cond == "ok":
            failed = _NONZERO.get((op, truth))
        elif cond == "true":
            nonzero = _NONZERO.get((op, truth))
            failed = None if nonzero is None else not nonzero
        else:
            failed = _NEGATIVE.get((op, truth))
        if failed is not None:
            out.append((p, failed))
    return out


def _given_back(st: State, subject: Val, outcome: bool, loc: Loc) -> State:
    """A store that keeps its reference only on success (`consumes_if`), tested: where
    the branch shows it failed, the reference is the caller's again; where it shows it
    succeeded, the store keeps it."""
    for p, failed in shown_failed(st, subject, outcome):
        st = replace(st, pending=st.pending - {p})
        if failed:
            st = st.with_refcount(p[2], st.refcount(p[2]) + 1).note(
                loc, f"the call that was to keep it did not on this branch: the reference "
                f"on {_named(p[2])} is the caller's again", about=p[2])
    return st


def one_object(st: State, a: str, b: str, loc: Loc) -> State:
    """`a == b` holds: the references taken through either name are on one object.

    `cfile_css = css_tryget_online_from_dir(...); if (cfile_css != css) {put; fail}`:
    on the equal branch the reference is on `css`'s object (and pays what a store of
    `css` made before owed).  The references stay with the name that took them, which
    the other name now designates too: a put through either drops them, and a return
    that drops neither leaks the one taken (`if (old == new) return 0;` after a lookup
    that returned the installed object held).
    """
    ka, kb = st.alias(a) or a, st.alias(b) or b
    if ka == kb:
        return st
    if st.refcount(ka) <= 0:
        ka, kb, a, b = kb, ka, b, a
    n = st.refcount(ka)
    if n <= 0:
        return st
    # every name of kb's object is a name of ka's now
    st = replace(st, aliases=frozenset((v, ka if o == kb else o) for v, o in st.aliases
                                       if v != b) | {(b, ka)})
    if kb in st.owed:
        st = replace(st, owed=st.owed - {kb}).with_refcount(ka, n - 1)
        st = st.note(loc, f"the reference on `{a}` is the one the stored `{kb}` owns",
                     about=a)
    return st


def no_object(st: State, name: str) -> State:
    """`name` is NULL or an error pointer here: it holds no reference and points nowhere.
    Nor does the object it was found to be (`if (old == new)` then `if (!new)`)."""
    if st.refcount(name) > 0:
        st = st.with_refcount(name, 0)
    same = st.alias(name)
    if same and same != name and st.refcount(same) > 0:
        st = st.with_refcount(same, 0)
    for k, n in st.refs:
        if n > 0 and field_root(k) == name:
            st = st.with_refcount(k, 0)  # nor on what its fields point to
    return replace(st, ptrs=frozenset(p for p in st.ptrs if p[0] != name))
