"""ref-leak: a reference taken and neither released nor handed off on some path."""

from __future__ import annotations

from analyzer.engine.beliefs import says_nothing
from analyzer.engine.exceptions import exception
from analyzer.engine.lifetimes import field_root, held_key, kept_key, shown_failed
from analyzer.ir import Rule
from checkers import put_contract
from checkers.base import Checker, Slot, register
from checkers.lifetime_util import (
    believed,
    is_local,
    may_take,
    obj_key,
    out_param,
    reset_names,
    taken_at,
    value_key,
    without,
)


def _member(text: str, c: str) -> bool:
    """`c->field` or `c[i]`: one step into the container `c`."""
    if text.startswith(f"{c}->"):
        return text.count("->") == 1
    return text.startswith(f"{c}[") and text.endswith("]") and text.count("[") == 1 and \
        "->" not in text and "." not in text


# the slot's mark that this path put the field spelled next to it
_PUT = "\0put"
# the slot's mark of the field the last branch tested
_TESTED = "\0tested"
# the slot's mark, next to a container, of a field of it that holds a reference this
# function stored there: "\0owns" + the field (`reply->net`)
_OWNS = "\0owns "
# the slot's mark, next to a variable, that its last use was as an argument of a callee
# nothing is known of (see `RefLeak.believed`)
_PASSED = "\0passed"
# (object, _FREED + container NUL field): the container was freed while its field held
# the object's reference; a leak at the return unless the object is released before
_FREED = "\0freed "
# the slot's marks, next to a parameter `dst` of a function that hands references back
# through `*dst`: `*dst` holds one this path stored; this path stored one there and
# then released it or replaced it by NULL (`dst_release(*dst); *dst = NULL;`)
_OUT = "\0out"
_OUT_UNDONE = "\0out undone"
# the slot's mark, next to an object, that this path stored the reference it took on it
# into its caller's structure (`RCU_INIT_POINTER(rq->xdp_prog, prog)` after
# `bpf_prog_inc(prog)`): the function's error paths undo that store
_STOWED = "\0stowed"
_UNSTOWED = "\0unstowed"  # ... and released it again
# the slot's mark, next to an object, that the call this path gave its reference to
# (`schedule_work(&n->work)` after `kref_get(&n->kref)`) was shown not to keep it
_GIVEN_BACK = "\0given back"


CONSUMED = exception(
    "ref-leak.consumed-by-unknown-callee", "ref-leak",
    "a believed reference whose last use was as an argument of a callee nothing is "
    "known of",
    """The kernel hands references to callees that end with the put
    (`addrconf_dad_failure(skb, ifp)`, `ip6_del_rt(net, rt, false)`); with no body and
    no model entry, or a body that hands the argument on to such a callee
    (`rtnl_notify(skb, ...)` calls nlmsg_notify() in a file not read), a call given the
    object and never followed by its release on a path where the call succeeded may
    have consumed it.""",
    "ref_leak_believed.c:tnode_report_failure", "ref_leak_believed.c:tnode_configure")
NEW_HOLDER = exception(
    "ref-leak.get-for-new-holder", "ref-leak",
    "a plain get (not a tryget) with no put of the object anywhere in the function",
    """A function that only takes a reference takes it for a new holder, often set up
    by a helper the analysis cannot see (a field written through a callee).""",
    "ref_leak.c:memcg_pin_for", "ref_leak.c:css_hold")
KEPT_ON_SUCCESS = exception(
    "ref-leak.dropped-when-call-failed", "ref-leak",
    "a reference dropped exactly when a later call failed is kept on success",
    """`kobj = kobject_get_unless_zero(); if (!kobj) module_put(owner);`: on success the
    reference is kept by what the call set up (`ret = ops->build_state(...); if (ret)
    put;`).""",
    "ref_leak.c:provider_get", "ref_leak.c:provider_start")
DESTRUCTOR = exception(
    "ref-leak.destructor-releases-fields", "ref-leak",
    "a structure given to a function named like a destructor may have its fields' "
    "references released there",
    """`foo_destroy(c)`, `foo_uninit(c)`, `free_foo(c)` tear an object down, fields and
    all; the model's naming.destructor says which names.""",
    "ref_leak_owned_fields.c:treq_send_destroyed", "ref_leak_owned_fields.c:treq_send",
    attributed=False)  # the field's release is a fact of the path state, reported later
ITERATOR_STEP = exception(
    "ref-leak.iterator-step", "ref-leak",
    "a variable overwritten by the result of a call given it, that nothing describes",
    """`iter = dma_fence_chain_walk(iter)`, `np = of_find_node_by_name(np, name)`,
    `pdev = pci_get_device(vendor, id, pdev)`: the kernel's iterator steps drop the
    reference on the cursor they are given and return the next one with a reference
    (Documentation/devicetree/kernel-api.rst on of_find_*: "Note that it does an
    of_node_put() on @from"), so the old value was handed to the call.  A callee whose
    body or model entry shows it keeps the reference is not such a step.""",
    "ref_leak.c:memcg_depth_from", "ref_leak.c:memcg_depth_parents")


@register
class RefLeak(Checker):
    """
    ## What it finds
    A reference taken in this function — by a get, by a tryget on its success
    branch, or returned by a callee such as `get_mem_cgroup_from_mm()` or
    `mem_cgroup_iter()` — held in a local variable that goes out of scope (at a
    `return`, at the end of a loop iteration through `continue` or the closing
    brace, at a `goto` out of its block) or is overwritten, while the reference is
    neither released nor handed off. A reference returned to the caller, stored into
    a structure or a global, consumed by a callee, or linked into a list that
    outlives the function (`list_add(&w->wlist, &parent->watches)`; a list on the
    stack keeps nothing, unless the function gives it to a call that may empty it:
    `dispose_list(&dispose)`), stored into an ID map (`idr_alloc()`, `xa_insert()`:
    only when the store succeeds, so a branch that shows the failure, `if (ret < 0)`,
    gives the reference back), given to queued work or an armed timer (`mod_timer()`
    only when the timer was not pending), or given to a helper that stores it or
    links it into a list on some of its paths, is handed off, not leaked; on the
    branch where `IS_ERR()` says a pointer is an error pointer it holds no reference
    at all. Nor does an object the path frees (`kfree(rq)`, or the release function
    its kref_put() names called directly, `treq_destroy(&rq->ref)`, where nobody
    else has the object yet): every reference held on it goes with it. A reference
    taken on a parameter's object, or on what an object's field points to
    (`try_module_get(t->owner)`: a counter of the module's, apart from the object's
    own, kept for the object when the function succeeds), leaks when an error
    return keeps it while the function's non-error returns do not, or while another
    error return releases the one it took (`goto put_module;`). A result borrowed
    from an iterator whose state is on the caller's stack
    (`drm_connector_list_iter_next(&iter)`) holds no reference of the function's.
    A reference dropped exactly when a later call failed (`if (!kobj)
    module_put(owner);`) is kept by what that call set up on success. The path is
    reported: where the reference was taken, the branches taken, the exit.
    A callee that neither the model nor an analysed body describes returns a
    reference when this function releases one of its results on some path
    (`neigh = ip6_neigh_lookup(...); ... neigh_release(neigh);`): the put is the
    evidence, named in the message, and every call of that callee here is then
    taken to return one. Such a reference whose last use was as an argument of a
    callee nothing is known of (`addrconf_dad_failure(skb, ifp)`) may have been
    consumed there, unless the function releases it after that call on some other
    path (the call then keeps nothing); a put that
    pairs with a get of the function's own, or a variable that may also hold a
    borrowed object (`sk = skb->sk`), shows nothing of the callee.
    A reference stored into a field of a structure the function holds in a local
    (`reply->net = get_net(net);`) is owned by that structure; a path that frees the
    structure itself (`kfree(reply)`: nobody else can hold it then) while the field
    still has it — not released, not given to a call that may take it over (a callee
    whose body or model entry shows that it only uses the object does not), not taken
    over by a local, the structure not stored, returned or given to a destructor such
    as `foo_free()` — leaks it.
    A reference taken and stored into the caller's structure (`RCU_INIT_POINTER(
    rq->xdp_prog, prog)` after `bpf_prog_inc(prog)`) is undone by the function's error
    paths when one of them releases it: an error return after the store that does not
    leaks it, since a caller whose setup failed releases nothing.
    An object with no variable of its own is named by its access path
    (`bpf_prog_inc(params->xdp_prog)`, `kref_get(&d->notify->kref)`), until the
    variable or a member on the path is assigned.  A reference taken for a callee that
    keeps it only on success — queued work (`schedule_work()`, `queue_work()`: false
    when the work was already pending), an armed timer, an ID map — leaks when a
    branch shows the callee did not keep it and the function returns still holding it
    (`if (!schedule_work(&n->work)) n->missed++;`); a result nobody tests says nothing.
    An iterator's step that puts the object it is given on some paths and hands it back
    unchanged on the others (`pgmap = get_dev_pagemap(pfn, pgmap)`) drops that
    reference and returns one: the variable it assigns holds a reference.
    A field whose references the function counts (it gets or puts through it,
    `get_task_struct(it->cur_task)`) leaks too when a path has just tested it
    non-NULL and then overwrites it with no call given it in between.
    A function that returns nothing and keeps a tryget's reference on its caller's
    object (`if (!css_tryget_online(&memcg->css)) return; ... }`) leaves a reference
    nobody owns: its caller cannot tell that the tryget succeeded. A put named with the
    verb inside the name (`nfs_put_client(clp)`) releases the reference the path holds
    on its one argument.
    A callee that hands a reference back through a pointer's address (`err =
    lookup(net, id, &dst)`: its body stores one into `*dst`, on every path or only
    where it returns 0) leaves the caller's variable holding it, from the call or from
    the branch where the call succeeded. In such a callee, an error return that leaves
    the stored reference in `*dst` leaks it when the function's other error returns
    release what they stored there (`dst_release(*dst); *dst = NULL;`): callers find
    nothing to release after a failure. A reference stored into an element of an array
    the function allocated (`set[0] = get(x)`) is owned by the array as a field is.
    A put checks its own body too: a function declared to drop its argument's
    reference — by its model entry (`mem_cgroup_iter_break()`), or by its name
    (`tsess_put(s, why)`) when its other returns show the drop — leaks for every
    caller on a return that skips it, unless the argument is NULL, an error pointer,
    the caller's other handle (`prev == root`), an object of static storage that is
    never counted (`idmap == &nop_mnt_idmap`) or an object whose own state the
    function tested (`if (css->flags & CSS_NO_REF)`), or the return is an error one.
    A hand-off that keeps the reference only when it succeeds (`schedule_work()`,
    `queue_work()`: false when the work was already pending, whose one run drops the
    one reference it has) leaks the reference the function took for it when its
    result is ignored (`kref_get(&n->kref); schedule_work(&n->work);`).

    ## Why is this bad
    A leaked reference keeps the object alive forever: a memory cgroup that can
    never be freed after rmdir, a shrinker whose `shrinker_free()` waits for a
    completion that never comes. Error paths are where they hide.

    ## Example
    ```c
    memcg = get_mem_cgroup_from_mm(mm);
    if (!mem_cgroup_online(memcg))
            return -ENOENT;             /* reference on memcg leaked */
    ret = charge(memcg);
    mem_cgroup_put(memcg);
    ```

    ## Use instead
    Release on every path, typically through a common exit label
    (`goto out_put;`), or hand the reference to its new owner explicitly.
    """

    rule = Rule(
        "ref-leak", "RefLeak",
        "Reference neither released nor handed off on some path",
        level="warning", precision="high", cwe=("CWE-772", "CWE-911"),
        tags=("refcount", "resource-leak"),
        path=("branch", "ref"),
    )

    # the memory location each pointer variable was last loaded from, with no store there
    # since (`pending = p->pending`): loading it again is not a new reference
    slot = Slot(frozenset(), frozenset.intersection)

    def __init__(self, run) -> None:
        super().__init__(run)
        self.put_objs: set[str] = set()
        self.candidates: list[tuple] = []
        # variables holding a call's result, and for each object whether its puts were
        # made with each result failed (`if (ret) module_put(ops->owner);`) or not
        # (pointers and trygets' flags fail as NULL or false, others as non-zero error
        # codes)
        self.results: dict[str, bool] = {}
        self.put_guards: dict[str, dict[str, set[bool]]] = {}
        # references on parameters held at an error return
        self.param_leaks: list[tuple] = []
        # per error return, the caller's objects (and their fields' objects) whose
        # reference the path took and released before it
        self.error_releases: list[frozenset] = []
        # references stored into the caller's structures, not released at an error return
        self.stowed_leaks: list[tuple] = []
        # references given back by a failed hand-off and still held at a return
        self.handoff_leaks: list[tuple] = []
        self.unstowed: set[str] = set()  # ... and those an error return released
        # references a tryget took on parameters, held at a return that gives no value
        self.void_keeps: list[tuple] = []
        # (container, field) -> (object, where its reference was taken) for the references
        # stored into fields of local containers
        self.stored: dict[tuple[str, str], tuple] = {}
        # (object, container, field) -> the state and the call that freed the container
        self.freed: dict[tuple, tuple] = {}
        # fields this function gets or puts through, and stores overwriting one
        self.counted_fields: set[str] = set()
        self.overwrites: list[tuple] = []
        # returns of a function that stores references through `*param`: (state, where,
        # the value returned, parameters whose `*param` holds one, ... that released one)
        self.out_exits: list[tuple] = []
        self.out_stored: dict[str, int] = {}  # parameter -> the line of the first store
        # the parameter this function is declared to put, and by what (see put_contract)
        self.contract = put_contract.declared(run)
        self.contract_exits: list[put_contract.Exit] = []

    def passed_on(self, st, ev, fm):
        """A believed reference given to a callee nothing is known of may be the one it
        consumes (`addrconf_dad_failure(skb, ifp)` ends with the put); while that call
        stays its last use, a path that lets it go does not prove a leak.  Unless the
        function still releases it on some path where the call succeeded: then the call
        keeps nothing (`err = sock_diag_destroy(sk, ...); sock_gen_put(sk);`; see
        `engine.beliefs.kept_after`)."""
        srcs = self.get(st)
        used = {obj_key(st, a) for a in ev.args}
        used.discard(None)
        out = frozenset(x for x in srcs if not (x[1] == _PASSED and x[0] in used))
        # (a callee believed to return references that is given one of its own results
        # is an iterator's step, `pci_get_device(vendor, id, from)`, that drops it; a
        # body read only in part, or one that gives the argument to a callee nothing is
        # known of, `rtnl_notify(skb, ...)` -> nlmsg_notify(), does not show what
        # becomes of it either)
        unknown = fm is None or (ev.callee in self.run.beliefs and
                                 self.run.model_for(ev.callee) is None)
        given = used if unknown else \
            {obj_key(st, a) for i, a in enumerate(ev.args) if may_take(fm, i)} - {None}
        out |= {(k, _PASSED) for k in given
                if st.refcount(k) > 0 and believed(self.run, st, k) is not None and
                (ev.result, k) not in self.run.kept_after}
        return out if out != srcs else None

    def on_deref(self, st, ev):
        srcs = self.get(st)
        k = obj_key(st, ev.ptr) if ev.ptr.kind in ("var", "global") else ev.ptr.root
        if k is not None and (k, _PASSED) in srcs:
            return self.put(st, srcs - {(k, _PASSED)})
        return None

    def on_call(self, st, ev, fm):
        if fm is not None and fm.consumes_if and ev.discarded:
            self.unchecked_handoff(st, ev, fm)
        start = self.get(st)
        st = self.stowing(st, ev, fm)
        passed = self.passed_on(st, ev, fm)
        if passed is not None:
            st = self.put(st, passed)
        undone = self.out_given(st, ev)
        if undone is not None:
            st = self.put(st, undone)
        owned = self.fields_on_call(st, ev, fm)
        if owned is not None:
            st = self.put(st, owned)
        out = self._on_call(st, ev, fm)
        if out is not None:
            st = out
        if self.contract[1]:
            released = put_contract.released_params(self.run, st, ev, fm)
            if released:
                st = self.put(st, self.get(st) |
                              {(p, put_contract.RELEASED) for p in released})
        return st if self.get(st) != start else None

    def unchecked_handoff(self, st, ev, fm) -> None:
        """`kref_get(&n->kref); schedule_work(&n->work);`: a callee that keeps the
        reference only when it succeeds (a work or timer already pending keeps the one
        it has), its result ignored: where it fails, the reference this function took
        for it is nobody's."""
        when = {"true": "returns true", "ok": "returns 0", "nonneg": "returns an id >= 0"}
        for index in (fm.consumes, *fm.consumes_more):
            a = ev.args[index] if index is not None and index < len(ev.args) else None
            if a is None:
                continue
            k = kept_key(st, a)
            if k is None or st.refcount(k) <= 0:
                continue
            self.report(ev.loc, f"{ev.callee}() keeps the reference on `{k}`"
                        f"{taken_at(st, k)} only when it {when.get(fm.consumes_if, 'succeeds')}"
                        ", and its result is ignored: where it fails, nothing drops it", st,
                        obj=k)

    def stowing(self, st, ev, fm):
        """A publication into the caller's structure of a reference this path took
        (`RCU_INIT_POINTER(rq->xdp_prog, prog)`), and its release again."""
        if fm is None:
            return st
        if fm.publishes is not None and max(fm.publishes) < len(ev.args):
            stowed = self.stowed(st, ev.args[fm.publishes[0]], ev.args[fm.publishes[1]])
            if stowed is not None:
                st = self.put(st, self.get(st) | {stowed})
        if fm.put is not None and fm.put < len(ev.args):
            k = held_key(st, ev.args[fm.put], fm)
            if (k, _STOWED) in self.get(st):
                st = self.put(st, self.get(st) - {(k, _STOWED)} | {(k, _UNSTOWED)})
            if (k, _GIVEN_BACK) in self.get(st):
                st = self.put(st, self.get(st) - {(k, _GIVEN_BACK)})
        return st

    def stowed(self, st, where, value):
        """`rq->xdp_prog = prog` with a reference this path took on prog: the mark that
        the caller's structure (reached from a parameter) holds it now."""
        if where.root not in self.fn.params or where.kind not in ("field", "deref") or \
                value.is_null:
            return None
        k = value_key(st, value)
        return (k, _STOWED) if k is not None and st.refcount(k) > 0 else None

    # --- references held in fields of the function's own containers -------------------
    def fields_on_call(self, st, ev, fm):
        """`reply->net = get_net(net); ... kfree(reply);`: a container this function
        frees itself is owned by nobody else, so a reference its field holds and that
        nothing released or passed on goes with it.  A field given to a call is passed
        on; a container given to a destructor (by name, or a callee that frees or puts
        it) may have its fields released there."""
        srcs = self.get(st)
        if not any(x[1].startswith((_OWNS, _FREED)) for x in srcs):
            return None
        out = set(srcs)
        # a freed container's field whose object the call is given: released (or handed
        # on) under its other name
        out -= {x for x in srcs if x[1].startswith(_FREED) and
                x[0] in {obj_key(st, a) for a in ev.args}}
        # the object a field holds, given under another name to a call that may take
        # its reference over (`cx88_core_put(core, ...)` after `dev->core = core`; not
        # a callee whose body or model entry shows it only uses it)
        given = {obj_key(st, a) for i, a in enumerate(ev.args) if may_take(fm, i)} - {None}
        out -= {x for x in srcs if x[1].startswith(_OWNS) and
                set(self.stored.get((x[0], x[1][len(_OWNS):]), (0, 0, None, None))[2:]) &
                given}
        for i, a in enumerate(ev.args):
            if a.kind == "field":
                out.discard((a.root, _OWNS + a.text))
                if a.text.startswith(f"{a.root}["):
                    # `put(arr[i])`: whichever element the index names
                    out -= {x for x in out if x[0] == a.root and
                            x[1].startswith(f"{_OWNS}{a.root}[")}
                continue
            if a.kind != "var":
                continue
            held = [x for x in out if x[0] == a.text and x[1].startswith(_OWNS)]
            if not held:
                continue
            frees = fm is not None and i in (fm.frees, fm.defers_free)
            if frees and not fm.inferred:
                for c, mark in sorted(held):
                    # a leak unless the path still releases the object under another
                    # name (`link->map = map; ... kfree(link); out: map_put(map);`)
                    field = mark[len(_OWNS):]
                    key = self.stored.get((c, field), (None, None, None, None))[2]
                    out.add((key, _FREED + c + "\0" + field))
                    self.freed.setdefault((key, c, field), (st, ev))
            if frees or (fm is not None and i == fm.put) or (
                    ev.callee and self.run.model.names_a_destructor(ev.callee) and
                    self.run.allows(DESTRUCTOR)):
                out -= set(held)
        out = frozenset(out)
        return out if out != srcs else None

    def field_leak(self, st, c: str, field: str, ev) -> None:
        k, origin, _, _ = self.stored.get((c, field), (None, None, None, None))
        what = f"the reference {origin[2]} took at line {origin[1].line}" if origin else \
            "a reference"
        if k and not k.endswith(")"):
            what = f"{what} on `{k}`"
        self.report(ev.loc, f"{what}, held in `{field}`, is not released before "
                    f"{ev.callee}() frees `{c}`", st, obj=field)

    def fields_on_store(self, st, ev, srcs: frozenset) -> frozenset:
        """A store into a field of a local container: the field now owns the reference
        the stored value held (and the one it replaces is no longer tracked); a store of
        the container itself publishes it, fields and all."""
        target, value = ev.target, ev.value
        srcs = frozenset(x for x in srcs if x[1] != _OWNS + target.text)
        if value.kind == "var":
            srcs = frozenset(x for x in srcs
                             if not (x[0] == value.text and x[1].startswith(_OWNS)))
        c = target.root
        if target.kind == "field" and ev.ptr and is_local(self.fn, c) and _member(target.text, c):
            k = value_key(st, value)
            if k is not None and k != c and st.refcount(k) > 0:
                shown = value.text if k.startswith("%") else k
                self.stored[(c, target.text)] = (shown, st.lookup(st.ref_origin, k), k,
                                                 self.same_object(st, value))
                srcs |= {(c, _OWNS + target.text)}
        return srcs

    def same_object(self, st, value) -> str | None:
        """The variable a stored call's result is the object of (`req->node =
        tnode_get(node)`): a put of that variable drops the reference the field holds."""
        call, fm = self.run.calls.get(value.tmp, (None, None)) if value.kind == "call" and \
            value.tmp else (None, None)
        if fm is None or fm.same_object is None or fm.same_object >= len(call.args):
            return None
        return obj_key(st, call.args[fm.same_object])

    def _on_call(self, st, ev, fm):
        if fm is not None and not fm.pins_container:
            # (`try_module_get(ops->owner)`: the reference is the taker's, not the field's)
            for i in (fm.get, fm.tryget, fm.put):
                a = ev.args[i] if i is not None and i < len(ev.args) else None
                if a is not None and a.kind == "field" and a.last_member:
                    # `get_task_struct(it->cur_task)`: this function counts the
                    # references that field holds
                    self.counted_fields.add(a.last_member)
        # whatever the callee does with a field's object (puts it, hands it on), the
        # path no longer holds it unaccounted for
        passed = {(_PUT, a.text) for a in ev.args if a.kind == "field"}
        out = self.put(st, self.get(st) | passed) if passed else None
        if fm is not None and fm.frees is not None and fm.frees < len(ev.args):
            k = obj_key(st, ev.args[fm.frees])
            if k is not None:
                self.put_objs.add(k)  # its references go with it (`lifetimes.freed`)
        if fm is not None and fm.put is not None and fm.put < len(ev.args):
            k = held_key(st, ev.args[fm.put], fm)
            if k is not None:
                self.put_objs.add(k)
                if not fm.returns_ref:  # not an iterator's step (`mem_cgroup_iter()`)
                    # failed results its puts were made under, and those that had not
                    for v, true in st.truths:
                        if v in self.results:
                            failed = true != self.results[v]
                            self.put_guards.setdefault(k, {}).setdefault(v, set()).add(
                                failed)
        return out

    def leak(self, st, name: str, loc, why: str, dying=()) -> None:
        if not is_local(self.fn, name) or st.refcount(name) <= 0:
            return
        if any(o == name and v != name and v not in self.fn.temps and v not in dying
               and field_root(v) is None for v, o in st.aliases):
            return  # another variable still holds the object (and now its reference)
        if (name, _PASSED) in self.get(st) and self.run.allows(CONSUMED):
            return  # last given to a callee that may have consumed it
        self.candidates.append((st, name, loc, why, self.run.take_waived()))

    def on_return(self, st, ev):
        value = ev.value
        srcs = self.get(st)
        if self.contract[1]:
            self.contract_exits.append(put_contract.Exit(
                st, ev.loc, frozenset(k for k, m in srcs if m == put_contract.RELEASED),
                frozenset(k for k, m in srcs if m == put_contract.NONE)))
        self.freed_leaks(srcs)
        returned = value_key(st, value) if value is not None else None
        self.handoff_leaks.extend((st, k, ev.loc) for k, mark in srcs if mark == _GIVEN_BACK
                                  and k != returned and st.refcount(k) > 0)
        if self.out_stored:
            self.out_exits.append((st, ev.loc, self.run.return_value(st, value),
                                   {k for k, m in srcs if m == _OUT},
                                   {k for k, m in srcs if m == _OUT_UNDONE}))
        if value is not None and value.kind == "var" and \
                any(x[0] == value.text and x[1].startswith(_OWNS) for x in srcs):
            # the container goes to the caller, fields and all
            st = self.put(st, frozenset(x for x in srcs if x[0] != value.text))
        self.param_returns(st, ev)
        return st

    def param_returns(self, st, ev) -> None:
        value = ev.value
        if not self.fn.params:
            return
        if value is None:
            # a function that returns nothing cannot tell its caller whether a tryget
            # on the caller's object succeeded (see `on_end`)
            self.void_keeps.extend((st, k, ev.loc) for k, n in st.refs
                                   if n > 0 and not is_local(self.fn, k) and
                                   self.tried(st, k))
            return
        failed = (self.run.return_value(st, value) or 0) < 0 or (
            value.kind == "var" and self.results.get(value.text) is False
            and st.truth(value.text) is True)
        if not failed:
            return
        self.error_releases.append(frozenset(
            k for k in st.dropped if k in self.fn.params or field_root(k) is not None))
        self.stowed_leaks.extend((st, k, ev.loc) for k, mark in self.get(st)
                                 if mark == _STOWED)
        self.unstowed |= {k for k, mark in self.get(st) if mark == _UNSTOWED}
        for p in self.fn.params:
            if st.refcount(p) > 0:
                self.param_leaks.append((st, p, ev.loc))
        for k, n in st.refs:
            # a reference on what an object's field points to (`try_module_get(
            # t->me)`) is kept for that object when the function succeeds: only an
            # error return that keeps it while the others do not leaks it
            if n > 0 and field_root(k) is not None:
                self.param_leaks.append((st, k, ev.loc))

    def tried(self, st, p: str) -> bool:
        """Was the reference `p` holds taken by a tryget (one that may fail)?"""
        origin = st.lookup(st.ref_origin, p)
        fm = self.run.model_for(origin[2].rstrip("()")) if origin else None
        return fm is not None and fm.tryget is not None

    def on_end(self, exit_states) -> None:
        self.out_leaks()
        self.contract_leaks()
        for st, p, loc in self.void_keeps:
            # `if (!css_tryget_online(&memcg->css)) return; ...; }` in a function that
            # returns nothing: the caller cannot know whether it now owns a reference,
            # so the one kept on success is nobody's
            if any(p in s.failed for s in exit_states):
                self.candidates.append((st, p, loc, "before this return: the caller "
                                        "cannot tell that the tryget succeeded", None))
        for st, loc, text, name in self.overwrites:
            if name in self.counted_fields:
                self.report(loc, f"the reference held in `{text}` is overwritten here without "
                            "being released", st, obj=text)
        for st, p, loc in self.param_leaks:
            # a reference on the caller's object, kept on an error return, while a path
            # that gets this far without failing does not keep one, or another error
            # return releases the one it took (`put_module:`)
            if any(s.refcount(p) == 0 and s.ret is not None and s.ret >= 0
                   for s in exit_states):
                self.candidates.append((st, p, loc, "before this error return: the "
                                        "other returns do not keep it", None))
            elif any(p in released for released in self.error_releases):
                self.candidates.append((st, p, loc, "before this error return: other "
                                        "error returns release it", None))
        for st, k, loc in self.stowed_leaks:
            # stored into the caller's structure, and released from it by the function's
            # other error returns: the caller finds nothing to release after a failure
            if k in self.unstowed:
                self.candidates.append((st, k, loc, "before this error return, which "
                                        "leaves it stored in the caller's structure: "
                                        "other error returns release it", None))
        told: set[tuple] = set()
        for st, name, loc, why, waived in self.candidates:
            self.run.waived = waived  # the exception that would have dropped it earlier
            origin = st.lookup(st.ref_origin, name)
            fm = self.run.model_for(origin[2].rstrip("()")) if origin else None
            if fm is not None and fm.get is not None and name not in self.put_objs and \
                    self.run.allows(NEW_HOLDER):
                # a plain get with no put anywhere here takes the reference for a new
                # holder the analysis cannot see (a field set through a helper)
                continue
            guards = self.put_guards.get(name, {})
            if any(guards.get(v) == {True} and true == self.results[v]
                   for v, true in st.truths if v in self.results) and \
                    self.run.allows(KEPT_ON_SUCCESS):
                # dropped exactly when a call failed: on success the reference is kept
                # by what the call set up (`ret = ops->build_state(...); if (ret) put;`,
                # `kobj = kobject_get_unless_zero(); if (!kobj) module_put(owner);`)
                continue
            if origin is not None and (loc, origin[1]) in told:
                # one reference, taken at one call, named two ways on two paths (`h->owner`
                # and, on the loop's first pass, `first->owner`): one leak
                continue
            if origin is not None:
                told.add((loc, origin[1]))
            belief = believed(self.run, st, name)
            shown = belief.shown() if belief is not None else ""
            # (a reference only the function's own release shows: medium evidence)
            self.report(loc, f"reference on `{name}`{taken_at(st, name)}{shown} is not "
                        f"released {why}", st, obj=name, first=origin[1].line if origin else 0,
                        confidence="medium" if belief is not None else "high")
        for st, k, loc in self.handoff_leaks:
            # taken for a callee that keeps it only on success (a work item, a timer), and
            # kept after the branch that saw the callee refuse it
            origin = st.lookup(st.ref_origin, k)
            self.report(loc, f"reference on `{k}`{taken_at(st, k)} is not released before "
                        "this return, after the call that was to keep it did not", st, obj=k,
                        first=origin[1].line if origin else 0)

    # --- references handed back through `*param` ---------------------------------------
    def contract_leaks(self) -> None:
        param, by = self.contract
        for e, p in put_contract.broken(self.run, self.contract_exits, param, by):
            why = "its model entry says it drops" if by == "model" else \
                "its name and its other returns say it drops"
            self.report(e.loc, f"{self.fn.name}() returns here without releasing the "
                        f"reference on `{p}` ({why} the caller's reference)", e.state,
                        obj=p)

    def out_stored_at(self, st, ev, srcs):
        """`*dst = rt`: whether `*dst` now holds a reference this function took."""
        dst = out_param(self.fn, ev)
        if dst is None:
            return srcs
        k = None if ev.value.is_null else value_key(st, ev.value)
        held = k is not None and st.refcount(k) > 0
        out = srcs - {(dst, _OUT)}
        if held:
            self.out_stored.setdefault(dst, ev.loc.line)
            return out | {(dst, _OUT)}
        return out | {(dst, _OUT_UNDONE)} if (dst, _OUT) in srcs else out

    def out_given(self, st, ev):
        """`dst_release(*dst)`: what `*dst` held is released or handed on by the call."""
        srcs = self.get(st)
        given = {a.root for a in ev.args if a.kind == "deref" and a.text == f"*{a.root}"}
        hit = {x for x in srcs if x[1] == _OUT and x[0] in given}
        return srcs - hit | {(k, _OUT_UNDONE) for k, _ in hit} if hit else None

    def out_leaks(self) -> None:
        """A function that hands a reference back through `*dst` when it returns 0 and
        releases what it stored there before its other error returns (the convention:
        on failure the caller finds nothing to release) leaks it at an error return that
        leaves it there."""
        for p, line in self.out_stored.items():
            ok = any(ret == 0 and p in held for _, _, ret, held, _ in self.out_exits)
            undone = [loc for _, loc, ret, held, und in self.out_exits
                      if ret != 0 and p not in held and p in und]
            if not ok or not undone:
                continue
            for st, loc, ret, held, _ in self.out_exits:
                if ret is not None and ret < 0 and p in held:
                    self.report(loc, f"the reference stored in `*{p}` at line {line} is "
                                f"left there on this error return, which callers take as "
                                f"holding nothing (the error return at line "
                                f"{undone[0].line} releases it)", st, obj=f"*{p}",
                                first=line)

    def steps(self, value, name: str) -> bool:
        """`iter = walk(iter)`, `walk()` described by nothing: an iterator's step that
        took the old cursor's reference (see ITERATOR_STEP)."""
        if value.kind != "call":
            return False
        call = self.run.calls.get(value.tmp, (None, None))[0]
        # (what the model or a body says, not what this function's own releases suggest)
        return call is not None and call.callee is not None and \
            says_nothing(self.run.model_for(call.callee, call.not_a_put)) and \
            any(a.kind == "var" and a.text == name for a in call.args) and \
            self.run.allows(ITERATOR_STEP)

    def freed_leaks(self, srcs, names=None) -> None:
        """Report the fields of freed containers whose objects were never released
        (of the objects named `names` only, when given)."""
        for key, mark in sorted(x for x in srcs if x[1].startswith(_FREED)):
            if names is None or key in names:
                c, field = mark[len(_FREED):].split("\0", 1)
                at, freed = self.freed[(key, c, field)]
                self.field_leak(at, c, field, freed)

    def on_dead(self, st, ev):
        self.freed_leaks(self.get(st), ev.names)
        for name in ev.names:
            self.leak(st, name, ev.loc, f"before `{name}` goes out of scope here",
                      dying=ev.names)
        return self.put(st, without(self.get(st), ev.names))

    def on_walk(self, st, ev, wm):
        name = ev.cursor.text
        if ev.step and st.refcount(name) > 0:
            self.leak(st, name, ev.loc, f"before the {ev.macro}() walk moves `{name}` on")
        for k, n in st.refs:
            # (`try_module_get(p->owner)` on each element, never dropped: the walk's
            # elements keep nothing for the function)
            if ev.step and n > 0 and field_root(k) == name:
                self.leak(st, k, ev.loc, f"before the {ev.macro}() walk moves `{name}` on")
        return self.put(st, without(self.get(st), reset_names(ev)))

    def overwrites_held_field(self, st, ev, srcs) -> None:
        """`if (it->cur_task) it->cur_task = NULL;` with no put: a field whose references
        this function counts (it gets or puts through it) is known to hold one, just
        tested, and loses it while no call was given it and no local took it over."""
        text = ev.target.text
        member = ev.target.last_member
        if member is None or st.truth(text) is not True or (_TESTED, text) not in srcs or \
                (_PUT, text) in srcs or \
                any(src == text and v[0] != "\0" for v, src in srcs):
            return
        self.overwrites.append((st, ev.loc, text, member))

    def on_branch(self, st, subject, outcome):
        # the field this path has just tested: a store it controls follows
        srcs = self.get(st)
        kept = frozenset(x for x in srcs if x[0] != _TESTED)
        kept |= {(p[2], _GIVEN_BACK) for p, failed in shown_failed(st, subject, outcome)
                 if failed}
        if subject.kind == "field":
            kept |= {(_TESTED, subject.text)}
            if not outcome:
                # `if (!set[i])`: what the path stored there was NULL, and holds nothing
                kept -= {(subject.root, _OWNS + subject.text)}
        if subject.kind == "deref" and not outcome and subject.root and \
                subject.text == "*" + subject.root:
            # `if (*fence)` false: what the path stored through `fence` was NULL
            kept -= {(subject.root, _OUT)}
        if self.contract[1]:
            kept |= {(p, put_contract.NONE)
                     for p in put_contract.none_on_branch(self.run, st, subject, outcome)}
        return self.put(st, kept) if kept != srcs else None

    def on_assign(self, st, ev):
        target, value = ev.target, ev.value
        if target.kind == "var" and value.kind == "call":
            # does a true value say the call succeeded: a pointer, or a tryget's flag
            # (`held = refcount_inc_not_zero(...)`); an int is an error code
            fm = self.run.calls.get(value.tmp, (None, None))[1]
            self.results[target.text] = ev.ptr or (fm is not None and (
                fm.tryget is not None or fm.enter_if == "true"))
        srcs = self.get(st)
        if target.kind != "var":
            stowed = self.stowed(st, target, value) if ev.ptr else None
            if stowed is not None:
                srcs |= {stowed}
            if target.kind == "field" and ev.ptr:
                self.overwrites_held_field(st, ev, srcs)
            srcs = self.fields_on_store(st, ev, srcs)
            srcs = self.out_stored_at(st, ev, srcs)
            return self.put(st, frozenset(x for x in srcs if x[1] != target.text))
        name = target.text
        if st.refcount(name) > 0 and not (
                value.kind in ("var", "global") and obj_key(st, value) == name) and \
                (name, value.text) not in srcs and not self.steps(value, name):
            self.leak(st, name, ev.loc, f"before `{name}` is overwritten here")
        srcs = without(srcs, [name])
        if value.kind == "field" and ev.ptr:
            srcs |= {(name, value.text)}
            # (`ns = req->ns`: the local takes over what the field held)
            srcs -= {(value.root, _OWNS + value.text)}
        return self.put(st, srcs)
