"""Facts inferred from the bodies of the functions in the analysed files.

Which parameters a function stores into memory that outlives it (a field reached
through a pointer, a global): a caller that passes a referenced object to such a
function hands the reference over, as `commit_charge(folio, memcg)` does by
writing `folio->memcg_data`.  Which parameters it dereferences: a caller that
passes a pointer whose RCU section has ended to such a function uses it.  The
API model always takes precedence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dc_field

from analyzer.engine import lifetimes
from analyzer.engine.sections import Flavours
from analyzer.engine.state import UNKNOWN
from analyzer.interproc.observer import RunFacts
from analyzer.ir import Assign, Deref, Function
from analyzer.model import FnModel


def stored_params(fn: Function) -> list[int]:
    """Indexes of parameters whose value this function stores beyond its own frame."""
    out: list[int] = []
    locals_ = set()
    for block in fn.blocks:
        for ev in block.events:
            if not isinstance(ev, Assign):
                continue
            target, value = ev.target, ev.value
            if target.kind == "var":
                locals_.add(target.text)
                continue
            if value.neg or value.root not in fn.params or value.root in locals_ or ev.narrow:
                continue
            if value.kind in ("field", "call", "deref", "rcu"):
                continue  # `it->ss = css->ss` stores what css points to, not css
            if value.kind == "addr" and value.text.count("->") > 1:
                continue  # `&css->cgroup->cset_links` is inside another object
            if target.kind == "field" and target.root not in fn.params and \
                    target.text.startswith(f"{target.root}."):
                continue  # a field of a local structure
            if target.root == value.root:
                continue
            idx = fn.params.index(value.root)
            if idx not in out and carries_pointer(fn, idx):
                out.append(idx)
    return out


def carries_pointer(fn: Function, idx: int) -> bool:
    """Can parameter `idx` carry an object (and a reference with it)?  An integer one
    cannot, unless it is as wide as a pointer (`skb_set_nfct(skb, (unsigned long)ct |
    info)` stores `ct`)."""
    return not (idx < len(fn.param_ptrs) and not fn.param_ptrs[idx] and not (
        idx < len(fn.param_words) and fn.param_words[idx]))


def dereferenced_params(fn: Function) -> tuple[int, ...]:
    """Indexes of parameters the function dereferences while they still hold the argument."""
    assigned = {ev.target.text for b in fn.blocks for ev in b.events
                if isinstance(ev, Assign) and ev.target.kind == "var"}
    seen = {ev.ptr.text for b in fn.blocks for ev in b.events
            if isinstance(ev, Deref) and ev.ptr.kind == "var"}
    return tuple(i for i, p in enumerate(fn.params) if p in seen and p not in assigned)


@dataclass
class Summary:
    """What a function does, as its callers see it.  Plain data: JSON in, JSON out."""

    name: str
    file: str
    line: int
    params: list[str]
    enters: str | None = None       # returns holding this flavour on every path
    enters_if: str | None = None    # ... only when it returns true
    enters_on_zero: bool = False    # ... only when it returns 0 (and fails with -errno)
    enters_on_nonneg: bool = False  # ... only when it returns >= 0 (an id; else -errno)
    # ... on some paths, which its result does not tell apart
    enters_maybe: str | None = None
    exits: str | None = None        # releases a section its caller holds
    # releases its caller's section on some path (for good, or to take it again)
    releases_caller: str | None = None
    requires: str | None = None     # needs the caller to hold this flavour
    # the sections above are per object, reached from a parameter: [index, members]
    # (`srcu:head->srcu` in a function given `head` is [0, "->srcu"])
    section_handle: list | None = None
    may_sleep: bool = False
    sleep_chain: list[str] = dc_field(default_factory=list)
    # sleeps only the vfree() way: in process context, never from interrupt context
    sleeps_in_process_only: bool = False
    # every sleep found depends on the object freed (kvfree())
    sleeps_maybe: bool = False
    # every sleep comes after the function released the caller's RCU section
    sleeps_after_release: bool = False
    requires_why: str = ""
    returns_ref: bool = False
    # every object it returns comes with a reference on what this field points to
    returns_pin: str = ""
    returns_rcu: bool = False
    # some value it returns comes from a callee nothing is known of
    returns_opaque: bool = False
    # every object it returns is this parameter, unchanged (`get_net()` returns `net`)
    returns_param: int | None = None
    puts: list[int] = dc_field(default_factory=list)
    # ... of those, the ones put on some paths only (not on every one where not NULL)
    puts_maybe: list[int] = dc_field(default_factory=list)
    # parameters the body tests for an error pointer itself: a put of one takes them
    err_params: list[int] = dc_field(default_factory=list)
    # parameters given to a callee nothing is known of: what happens to them is not shown
    opaque_params: list[int] = dc_field(default_factory=list)
    # waits for a grace period on every path (`tracepoint_synchronize_unregister()`)
    grace_period: bool = False
    gets: list[int] = dc_field(default_factory=list)
    trygets: list[int] = dc_field(default_factory=list)
    # hands back a new reference through `*param` (on every path, or only where it
    # returns 0: out_ref_if_ok)
    out_refs: list[int] = dc_field(default_factory=list)
    out_ref_if_ok: bool = False
    stores: list[int] = dc_field(default_factory=list)
    # they are kept only on paths that return 0, never on one that returns a negative
    # errno (`xfrm_state_add()` inserts its state unless it finds a duplicate): kept only
    # when the call succeeds (see `_kept_on_success`)
    stores_if_ok: bool = False
    derefs: list[int] = dc_field(default_factory=list)
    frees: list[int] = dc_field(default_factory=list)
    defers_free: list[int] = dc_field(default_factory=list)
    unpublishes: list[int] = dc_field(default_factory=list)
    # parameters freed at once (not deferred) when the function drops their last reference
    frees_on_last: list[int] = dc_field(default_factory=list)
    # published fields of parameters it gives a new value, the old one unknown to it:
    # [index, "->field", struct]
    replaces: list[list] = dc_field(default_factory=list)
    unknown_callees: list[str] = dc_field(default_factory=list)
    # the returned reference / puts are on objects reached from a parameter's fields
    returns_handle: list | None = None
    # returns, with no reference, what one field path of a parameter holds (an accessor,
    # `return f->priv;`): [index, "->priv"]; two calls with one argument name one object
    projects: list | None = None
    puts_handles: list[list] = dc_field(default_factory=list)
    # the parameter that says how many references its gets and puts are
    count: int | None = None
    # `requires`/`may_sleep` only under one of these conjunctions of conditions on the
    # arguments, each [index, field path, operator, constant, truth]; empty: always
    requires_when: list[list[list]] = dc_field(default_factory=list)
    sleeps_when: list[list[list]] = dc_field(default_factory=list)
    # per parameter, the struct its pointer reaches: what a caller's argument is
    param_types: list[str] = dc_field(default_factory=list)
    # not what callers see: the callees nothing describes whose results it releases,
    # [callee, releasing call, line] (`beliefs`), which the other callers' runs read
    releases_results: list[list] = dc_field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Summary:
        return cls(**data)

    def to_model(self) -> FnModel:
        """The entry the engine applies at call sites (the model still takes precedence)."""
        why = tuple(self.sleep_chain)
        return FnModel(
            self.name,
            enter=self.enters or self.enters_if,
            enter_maybe=self.enters_maybe if not (self.enters or self.enters_if) else None,
            enter_if=("zero" if self.enters_on_zero else
                      "nonneg" if self.enters_on_nonneg else "true")
            if self.enters_if and not self.enters else None,
            exit=self.exits,
            handle=self.section_handle[0] if self.section_handle else None,
            handle_path=self.section_handle[1] if self.section_handle else "",
            releases_caller=self.releases_caller,
            sleeps="process" if self.may_sleep and self.sleeps_in_process_only
            else self.may_sleep,
            requires=self.requires,
            returns_ref=self.returns_ref,
            returns_pin=self.returns_pin,
            returns_opaque=self.returns_opaque,
            same_object=self.returns_param,
            returns_rcu=self.returns_rcu,
            put=self.puts[0] if self.puts else None,
            put_maybe=bool(self.puts) and self.puts[0] in self.puts_maybe,
            accepts_err=bool(self.puts) and self.puts[0] in self.err_params,
            opaque_params=tuple(self.opaque_params),
            grace_period=self.grace_period,
            get=self.gets[0] if self.gets else None,
            tryget=self.trygets[0] if self.trygets else None,
            out_ref=self.out_refs[0] if self.out_refs else None,
            out_ref_if="ok" if self.out_refs and self.out_ref_if_ok else "",
            consumes=self.stores[0] if self.stores else None,
            consumes_if="ok" if self.stores and self.stores_if_ok else "",
            consumes_more=tuple(self.stores[1:]),
            derefs=tuple(self.derefs),
            frees=self.frees[0] if self.frees else None,
            defers_free=self.defers_free[0] if self.defers_free else None,
            unpublishes=self.unpublishes[0] if self.unpublishes else None,
            put_frees=bool(self.puts) and self.puts[0] in self.frees_on_last,
            replaces=tuple(tuple(r) for r in self.replaces),
            why=why,
            why_requires=self.requires_why,
            sleeps_maybe=self.sleeps_maybe,
            sleeps_outside_caller_rcu=self.sleeps_after_release,
            returns_handle=tuple(self.returns_handle) if self.returns_handle else None,
            projects=tuple(self.projects) if self.projects else None,
            puts_handles=tuple(tuple(h) for h in self.puts_handles),
            count=self.count,
            requires_when=_conditions(self.requires_when),
            sleeps_when=_conditions(self.sleeps_when),
            param_types=tuple(self.param_types),
            inferred=True,
        )


def _out_refs(fn: Function, exit_puts) -> tuple[list[int], bool]:
    """The parameters through whose pointee the function hands its caller a reference
    (`*dst = rt; return 0;`), and whether only where it returns 0: every exit that leaves
    one returns 0 and none of the others is known to (they fail with an errno)."""
    out, if_ok = [], False
    for i in range(len(fn.params)):
        left = [ret for kept, _, ret in exit_puts if ("out", i) in kept]
        rest = [ret for kept, _, ret in exit_puts if ("out", i) not in kept]
        if not left:
            continue
        if not rest:
            out.append(i)
        elif all(r == 0 for r in left) and all(r != 0 for r in rest):
            out.append(i)
            if_ok = True
    return out[:1], if_ok


def _param_handles(fn: Function, exits, flavours: Flavours,
                   extra: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """Section keys of per-object flavours whose object a parameter reaches
    (`srcu:head->srcu`, `head` a parameter never reassigned): (index, members); the
    keys held or released at `exits`, and `extra`."""
    assigned = {ev.target.text for b in fn.blocks for ev in b.events
                if isinstance(ev, Assign) and ev.target.kind == "var"}
    # (`c = trans->c; ... srcu_read_unlock(&c->btree_trans_barrier, ...)`)
    loaded = {name: p for name, p in lifetimes.param_handles(fn).items() if "|" not in p[1]}
    keys = {k for st in exits for k in (*(k for k, _ in st.held), *st.borrowed)}
    keys |= set(extra)
    out = {}
    for k in keys:
        fam, _, obj = k.partition(":")
        cut = min((i for i in (obj.find("->"), obj.find(".")) if i > 0), default=-1)
        root, members = (obj[:cut], obj[cut:]) if cut > 0 else (obj, "")
        if fam not in flavours.handled or not members:
            continue
        if root in fn.params and root not in assigned:
            out[k] = (fn.params.index(root), members)
        elif root in loaded:
            out[k] = (loaded[root][0], loaded[root][1] + members)
    return out


def _conditions(data: list) -> tuple:
    return tuple(frozenset(tuple(c) for c in conj) for conj in data)


def _when(conds: list) -> list:
    """Conjunctions as data; none at all if one of them is empty (always).  Paths that
    differ only in one mode's outcome (`flags & X` taken on one, not on the other) are
    one condition without it, so a sleep on both arms of a test is a sleep."""
    conjs = _simplified({frozenset(c) for c in conds})
    if not conjs or any(not c for c in conjs):
        return []
    return [[list(x) for x in conj] for conj in sorted(tuple(sorted(c)) for c in conjs)]


def _simplified(conjs: set[frozenset]) -> set[frozenset]:
    """A disjunction of conjunctions with (A and x) or (A and not x) merged into A, and
    a conjunction that another one's literals are a subset of dropped."""
    changed = True
    while changed:
        changed = False
        for a in sorted(conjs, key=len):
            for lit in a:
                other = (a - {lit}) | {(*lit[:4], not lit[4])}
                if other in conjs:
                    conjs = (conjs - {a, other}) | {a - {lit}}
                    changed = True
                    break
            if changed:
                break
        conjs = {c for c in conjs if not any(o < c for o in conjs)}
    return conjs


def _reported_put(i: int, exits) -> bool:
    """The result says whether parameter `i` was put (`return 1` after dropping a
    timer's reference, `return 0` without): that is a reference of the callee's own, not
    the caller's.  A put the result does not tell apart drops the caller's."""
    put = {ret for p, nulls, ret in exits if i in p}
    kept = {ret for p, nulls, ret in exits if i not in p and i not in nulls}
    return bool(kept) and None not in put | kept and not put & kept


def _kept_on_success(i: int, exits) -> bool:
    """Parameter `i` is kept (stored, or handed to a callee that keeps it) only on paths
    that return 0, and never on one that returns a negative errno: a caller that sees
    the failure has its reference back.  (It may be kept on some successes only, as
    `xfrm_state_update()` inserts its state only in place of an acquire: a caller cannot
    tell those apart, and takes it as kept.)"""
    on = [ret for kept, ret, _ in exits if i in kept]
    failed = [i in kept for kept, ret, neg in exits if neg or (ret is not None and ret < 0)]
    return bool(on) and bool(failed) and all(r == 0 for r in on) and not any(failed)


def summarize(fn: Function, exit_states, facts: RunFacts, flavours: Flavours) -> Summary:
    """Summarise one engine run of `fn`: its exit states and the facts observed."""
    exits = [st for st in exit_states if not st.merged]
    s = Summary(fn.name, fn.loc.file, fn.loc.line, list(fn.params),
                param_types=list(fn.param_types))
    # sections of an object its parameter reaches, for a function whose annotations say
    # it carries such sections across its boundary (`__releases(&head->srcu)`); an
    # unannotated helper's partner may leave the section under a condition of its own
    # (`if (trans->srcu_held)`), which a summary does not keep
    # (sections it takes or leaves on every path are a contract whatever its annotations:
    # `static void release_user(u, idx) { srcu_read_unlock(&u->barrier, idx); }`)
    annotated = {f.partition(":")[0] for _, f in fn.annotations} & flavours.handled
    handles = _param_handles(fn, exits, flavours)
    for fkey in sorted(flavours.explicit) + sorted(handles):
        every_path_only = fkey in handles and not annotated
        depths = [st.depth(fkey) - (1 if fkey in st.borrowed and st.depth(fkey) > 0 else 0)
                  for st in exits]
        if exits and UNKNOWN not in depths:
            if all(d > 0 for d in depths):
                s.enters = s.enters or fkey
            elif any(d > 0 for d in depths) and not every_path_only:
                held_ret = {st.ret for st in exits if st.depth(fkey) > 0}
                free_ret = {st.ret for st in exits if st.depth(fkey) == 0}
                if None not in held_ret and all(r > 0 for r in held_ret) and free_ret == {0}:
                    s.enters_if = s.enters_if or fkey
                elif held_ret == {0} and None not in free_ret and all(r < 0 for r in free_ret):
                    # 0 with the section held, -errno without (`tcp_sigpool_start()`)
                    s.enters_if = s.enters_if or fkey
                    s.enters_on_zero = True
                elif all(st.ret_negative is False for st in exits if st.depth(fkey) > 0) \
                        and all(st.ret_negative for st in exits if st.depth(fkey) == 0):
                    # an id >= 0 with the section held, -errno without (`ipc_addid()`)
                    s.enters_if = s.enters_if or fkey
                    s.enters_on_nonneg = True
                elif not fkey.partition(":")[2]:
                    # held on some returns, under a condition the result does not say (a
                    # level kept in a structure the caller's partner tests: folio_walk_
                    # start()/folio_walk_end()): what the caller holds after it is unknown
                    s.enters_maybe = s.enters_maybe or fkey
        if exits and all(fkey in st.borrowed and st.depth(fkey) == 0 for st in exits):
            s.exits = s.exits or fkey
        # releases its caller's section on every path, or drops and retakes it (net
        # nothing on every path): a contract a caller can be a partner of; releasing on
        # some paths only is none, unless the result says which: an iterator's step
        # that ends the caller's walk exactly when it returns NULL (`__netlink_seq_next()`).
        # Of an object's section only the drop and retake is (`kvm_vcpu_srcu_read_unlock(
        # vcpu); ... kvm_vcpu_srcu_read_lock(vcpu);` around a block: the same on every path)
        released = [fkey in st.borrowed and st.depth(fkey) == 0 for st in exits]
        kept = [st.depth(fkey) - (1 if fkey in st.borrowed else 0) == 0 for st in exits]
        # (NULL where it released, an object - not a constant - where it kept it)
        at_end = all(r or k for r, k in zip(released, kept, strict=True)) and all(
            st.ret == 0 if r else (st.ret is None or st.ret > 0)
            for st, r in zip(exits, released, strict=True))
        if exits and any(fkey in st.borrowed for st in exits) and (
                all(kept) or (not every_path_only and (all(released) or at_end))):
            s.releases_caller = s.releases_caller or fkey
    for kind, flavour in fn.annotations:
        # `__acquires(&c->barrier)`, `__releases(&c->barrier)`: the declared contract is
        # what callers see (its body is checked against it by rcu-unbalanced)
        if ":" not in flavour:
            continue
        where = _param_handles(fn, [], flavours, (flavour,)).get(flavour)
        if where is None:
            continue
        attr = {"acquires": "enters", "releases": "exits"}.get(kind)
        if attr and getattr(s, attr) is None and not (
                attr == "enters" and s.enters_if) and not s.section_handle:
            setattr(s, attr, flavour)
            handles[flavour] = where
    for attr in ("enters", "enters_if", "exits", "releases_caller"):
        key = getattr(s, attr)
        if key in handles:
            # (one object's sections per function: the first one found)
            setattr(s, attr, flavours.family(key))
            s.section_handle = s.section_handle or list(handles[key])
    entered = {k for st in exit_states for k in st.entered}
    for flavour, loc, what, _ in ([] if facts.other_asserts else facts.asserts):
        # an assertion that the section is held documents the callers' duty
        if flavour not in entered and not s.exits:
            s.requires = flavour
            s.requires_why = f"{what} at {loc.file.rsplit('/', 1)[-1]}:{loc.line}"
            s.requires_when = _when([c for f, _, _, c in facts.asserts if f == flavour])
            break
    for kind, flavour in fn.annotations:
        # `__must_hold(RCU)`: the caller's section is the function's documented duty
        if kind == "must_hold" and not s.requires and not s.exits:
            s.requires = flavour.split(":", 1)[0]  # (`srcu:head->srcu`: its family)
            s.requires_why = f"declared __must_hold({flavour.upper()})"
    for needs, held, loc, what, _ in facts.rcu_uses:
        if s.requires:
            break
        # (its own lock taken again after dropping the caller's is no section of its own)
        if not held and not (entered & flavours.explicit and not s.releases_caller) and \
                not s.exits:
            s.requires = needs
            s.requires_why = f"{what} at {loc.file.rsplit('/', 1)[-1]}:{loc.line}"
            s.requires_when = _when([c for n, h, _, _, c in facts.rcu_uses
                                     if n == needs and not h])
            break
    if facts.sleeps:
        _, step, why, _ = (facts.hard_sleeps or facts.sleeps)[0]
        s.sleeps_when = _when([c for *_, c in facts.sleeps])
        s.may_sleep = True
        s.sleep_chain = [step, *list(why)[:4]]
        s.sleeps_in_process_only = not facts.hard_sleeps
        s.sleeps_maybe = not facts.sure_sleeps
        s.sleeps_after_release = facts.sleeps_after_release and \
            len(facts.sleeps_after_release) == len(facts.sleeps)
    s.releases_results = [list(r) for r in facts.released]
    # an iterator's step (`get_dev_pagemap(pfn, pgmap)`, `of_find_node_by_name(from,
    # name)`): it puts the caller's object on some paths and hands it back unchanged on
    # others, so to its caller the call drops that reference and returns one
    stepped = {r[6] for r in facts.returns if r[6] is not None} & facts.param_puts
    rets = [r for r in facts.returns if not r[0]]
    s.returns_ref = bool(rets) and all(r[1] or r[6] in stepped for r in rets) and \
        any(r[1] for r in rets)
    if not s.returns_ref and any(r[1] for r in rets) and all(r[1] or r[5] for r in rets):
        # a new reference on some paths, and on the others what a callee nothing
        # describes returned (`ip6_route_output_flags()`: a held dst, or one "whose
        # refcnt is already taken"): a caller cannot tell the paths apart, so what it
        # gets is a reference it must drop
        s.returns_ref = True
    pins = {r[4] for r in rets}
    if rets and not s.returns_ref and len(pins) == 1 and "" not in pins:
        s.returns_pin = next(iter(pins))
    s.returns_opaque = facts.returns_opaque and not s.returns_ref
    if len(facts.returned_params) == 1 and -1 not in facts.returned_params:
        s.returns_param = next(iter(facts.returned_params))
    # RCU pointers, and perhaps parts of the caller's own objects on other paths
    s.returns_rcu = any(r[2] is True for r in rets) and all(r[2] for r in rets)
    if len(facts.projections) == 1 and None not in facts.projections and \
            not s.returns_ref and not s.returns_rcu and not s.returns_pin:
        s.projects = list(next(iter(facts.projections)))
    s.puts = sorted(i for i in facts.param_puts if not _reported_put(i, facts.exit_puts))
    s.grace_period = bool(facts.exit_gp) and all(facts.exit_gp)
    s.puts_maybe = [i for i in s.puts if not all(
        i in p or i in nulls or (i in stepped and ("back to caller", i) in p)
        for p, nulls, _ in facts.exit_puts)]
    given = [kept for kept, _, _ in facts.exit_puts]
    for i, p in enumerate(fn.params):
        held = [st for st in exits if st.refcount(p) > 0]
        if not held:
            continue
        if len(held) == len(exits):
            s.gets.append(i)  # every path takes it
        elif all(st.ret is not None and st.ret > 0 for st in held) and \
                all(st.ret is not None and st.ret >= 0 for st in exits) and \
                not any(("given", i) in g for st, g in zip(exits, given, strict=False)
                        if st.refcount(p) > 0):
            # taken when it returns true (true without one: an object that needs none,
            # such as a bdi's embedded root writeback); never taken when it returns false
            s.trygets.append(i)
    s.trygets = sorted(set(s.trygets) | (facts.returned_trygets - set(s.gets)))
    p = fn.params[s.returns_param] if s.returns_param is not None else None
    if s.returns_ref and p is not None and s.returns_param not in s.gets and \
            not s.trygets and any(st.ret == 0 and st.truth(p) is not False and
                                  st.const(p) != 0 for st in exits):
        # `if (refcount_inc_not_zero(&a->ref)) return a; return NULL;`: the caller's own
        # object back with a reference, or NULL with none although it was given one: a
        # tryget on it, which a caller may test without naming the result (`if
        # (!tarr_get(a)) continue;`).  (`if (t) kref_get(&t->kref); return t;` returns
        # NULL only when given NULL: a get.)
        s.trygets = [s.returns_param]
        s.returns_ref = False
    s.out_refs, s.out_ref_if_ok = _out_refs(fn, facts.exit_puts)
    # a store of a parameter it took its own reference on (`css_get(); stock->cached =
    # memcg;`) keeps that reference, not the caller's
    s.stores = [i for i in dict.fromkeys((*stored_params(fn), *sorted(facts.consumed)))
                if i not in facts.param_gets and carries_pointer(fn, i)]
    s.stores_if_ok = bool(s.stores) and all(
        _kept_on_success(i, facts.exit_kept) for i in s.stores)
    s.derefs = list(dereferenced_params(fn))
    s.puts_handles = [list(h) for h in sorted(facts.put_handles)]
    s.err_params = sorted(facts.err_params)
    s.opaque_params = sorted(facts.opaque_params)
    if len(facts.count_params) == 1:
        s.count = next(iter(facts.count_params))
    handles = {h for r in facts.returns if not r[0] for h in [r[3]]}
    if s.returns_ref and len(handles) == 1 and None not in handles:
        s.returns_handle = list(next(iter(handles)))
    s.frees = sorted(facts.frees)
    s.defers_free = sorted(facts.defers)
    s.unpublishes = sorted(facts.unpublishes)
    # a release that frees on one path and defers on another decides itself (sk_destruct)
    s.frees_on_last = sorted(facts.frees_last - facts.defers)
    s.replaces = [list(r) for r in sorted(facts.replaces)
                  if fn.params[r[0]] + r[1] not in facts.loaded and
                  r[2] not in facts.freed_types]
    s.unknown_callees = sorted(facts.unknown)
    return s
