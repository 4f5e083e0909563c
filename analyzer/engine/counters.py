"""Reference counts recognised by the counter a put decrements and tests.

A get or put is known by its API (`refcount_inc()`, `kref_put()`) only when the counter
is one of the kernel's reference-count types and sits in the object itself.  Two shapes
escape that: a plain counter (`atomic_inc(&e->refs)`, counting references as well as
anything else), and a counter in a sub-object reached through a pointer
(`atomic64_inc(&prog->aux->refcnt)`, the reference count of `prog`).  Which counters
count references is shown by their puts: a function that decrements and tests a counter
and is a put (named so, or freeing what it reaches on the way) makes that counter,
reached by that path from an object of that type, the object's reference count.  Every
increment of it, anywhere in the run, is then a get of that object, every decrement and
test a put, every increment unless zero a tryget; the bodies of `bpf_prog_inc()` and
`bpf_prog_put()` then say what their names do not.

A counter is named by the type of the object its path starts from and the path
(`struct bpf_prog`, `->aux->refcnt`); a local loaded once from a parameter's member
(`aux = prog->aux`) extends the parameter's path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from analyzer.ir import Assign, Call, Function, Val
from analyzer.model import ApiModel, FnModel


@dataclass(frozen=True)
class Use:
    """One call that changes a counter reached from a variable."""

    result: str       # the call's temporary
    kind: str         # "get", "put" or "tryget"
    index: int        # the counter's argument
    owner: str        # the variable whose object the path starts from
    owner_type: str   # its struct
    path: str         # from the owner to the counter: "->aux->refcnt"
    plain: bool       # a plain counter (atomic_t), not a reference-count type
    param: bool       # the owner is a parameter

    @property
    def counter(self) -> tuple[str, str]:
        return self.owner_type, self.path


def _kind(fm: FnModel) -> tuple[str, int, bool] | None:
    """What the call does to which argument's counter, and whether it is a plain one."""
    for kind, index, plain in (("get", fm.counter_inc, True), ("put", fm.counter_put, True),
                               ("tryget", fm.counter_tryget, True), ("get", fm.get, False),
                               ("put", fm.put, False), ("tryget", fm.tryget, False)):
        if index is not None:
            return kind, index, plain
    return None


def _members(path: tuple[str, ...] | None) -> bool:
    return bool(path) and path[0].startswith("->") and \
        all(s.startswith(("->", ".")) and s.lstrip("-.>") for s in path)


def _loaded_once(fn: Function) -> dict[str, Val]:
    """Locals assigned once, from a member path of a parameter (`aux = prog->aux`)."""
    seen: dict[str, list[Val]] = {}
    for b in fn.blocks:
        for ev in b.events:
            if isinstance(ev, Assign) and ev.target.kind == "var":
                seen.setdefault(ev.target.text, []).append(ev.value)
    return {var: vals[0] for var, vals in seen.items()
            if len(vals) == 1 and var not in fn.params and vals[0].kind == "field" and
            vals[0].root in fn.params and _members(vals[0].path)}


def uses(fn: Function, model: ApiModel) -> list[Use]:
    """The counter changes of `fn` whose counter a path from a variable reaches: every
    plain one, and those of a reference-count type in a sub-object (one in the object
    itself, `&p->kref`, is the object's already)."""
    loaded: dict[str, Val] | None = None
    out: list[Use] = []
    for b in fn.blocks:
        for ev in b.events:
            if not isinstance(ev, Call) or not ev.callee:
                continue
            fm = model.fn(ev.callee)
            got = _kind(fm) if fm is not None else None
            if got is None:
                continue
            kind, index, plain = got
            a = ev.args[index] if index < len(ev.args) else None
            if a is None or a.kind != "addr" or not a.root or not _members(a.path):
                continue
            owner, path = a.root, "".join(a.path)
            owner_type = ev.types[index] if index < len(ev.types) else ""
            if loaded is None:
                loaded = _loaded_once(fn)
            via = loaded.get(owner)
            if via is not None:
                # (`aux->refcnt` with `aux = prog->aux`: `prog->aux->refcnt`)
                owner, path = via.root, "".join(via.path) + path
                i = fn.params.index(owner)
                owner_type = fn.param_types[i] if i < len(fn.param_types) else ""
            if not owner_type or (not plain and path.count("->") < 2):
                continue
            out.append(Use(ev.result, kind, index, owner, owner_type, path, plain,
                           owner in fn.params))
    return out


def frees_something(callees: Iterable[str], model: ApiModel) -> bool:
    """Calls a function the model says frees or defers a free."""
    for name in callees:
        fm = model.fn(name)
        if fm is not None and (fm.frees is not None or fm.defers_free is not None):
            return True
    return False


def reference_counts(functions: Iterable[tuple[str, Iterable[str], Iterable[tuple]]],
                     model: ApiModel) -> frozenset[tuple[str, str]]:
    """The counters a put of its parameter decrements and tests: (owner type, path).
    A put is a function named so; for a plain counter in the object itself, also one
    that frees (`if (atomic_dec_and_test(&e->refs)) kfree(e);`).  A counter in a
    sub-object needs the name: a function that drops `&d->notify->kref` drops what
    `d->notify` holds, not `d`.  `functions` gives each function's name, callees and
    counter uses (kind, owner type, path, the owner is a parameter)."""
    out: set[tuple[str, str]] = set()
    for name, callees, used in functions:
        puts = [(t, p) for kind, t, p, param in used if kind == "put" and param]
        if not puts:
            continue
        if model.names_a_put(name) or model.names_a_put_inside(name):
            out.update(puts)
        elif frees_something(callees, model):
            out.update((t, p) for t, p in puts if p.count("->") == 1)
    return frozenset(out)


def as_reference(ev: Call, fm: FnModel, use: Use) -> tuple[Call, FnModel]:
    """The call as the get, put or tryget of the counter's object that it is."""
    args = list(ev.args)
    args[use.index] = Val(use.owner, "var", root=use.owner)
    counted = dict(get=None, put=None, tryget=None, counter_inc=None, counter_put=None,
                   counter_tryget=None)
    counted[use.kind] = use.index
    return replace(ev, args=tuple(args)), replace(fm, **counted)
