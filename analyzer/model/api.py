"""Load and validate the kernel API model (`data/kernel-api.toml` plus users' files).

The file is the only place that knows kernel functions: which enter or leave a
read-side section, load RCU-protected pointers, sleep, free, take or drop
references; the read-side flavours themselves; the kernel's naming conventions
(put helpers, lock assertions); the gfp bit that makes an allocation block; and
how cleanup guards are named.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from analyzer.errors import InputError


@dataclass(frozen=True)
class FnModel:
    name: str
    enter: str | None = None
    exit: str | None = None
    handle: int | None = None
    # the section's object is reached from argument `handle` by these members
    # (`->srcu`: a helper given `head` enters `srcu_read_lock(&head->srcu)`)
    handle_path: str = ""
    enter_if: str | None = None
    # inferred: returns holding this flavour on some paths, which its result does not
    # tell apart (`folio_walk_start()` maps the pte, under RCU, only for a pte-level
    # folio): after the call the caller's nesting of it is unknown
    enter_maybe: str | None = None
    asserts: str | None = None
    sleeps: bool | str = False
    # the sleep depends on the object (kvfree() of vmalloc'ed memory)
    sleeps_maybe: bool = False
    # returns a new object, not yet seen by anyone else
    allocates: bool = False
    gfp: int | None = None
    waits_gp: str | None = None
    grace_period: bool = False
    assume: int | None = None
    requires: str | None = None
    returns_rcu: bool | str = False
    frees: int | None = None
    # argument index of the kmem_cache an object is freed to
    cache: int | None = None
    # returns a kmem_cache whose freed objects stay of their type (RCU readers
    # revalidate) when one of its arguments names this flag
    typesafe_flag: str = ""
    defers_free: int | None = None
    callback: int | None = None
    unpublishes: int | None = None
    # (location argument, value argument): the value becomes what RCU readers find there
    publishes: tuple[int, int] | None = None
    # published fields of arguments the call gives a new value, the old one coming off
    # readers' view: (argument index, "->field", struct the field points to)
    replaces: tuple[tuple[int, str, str], ...] = ()
    # the put frees the object at once (no grace period) when it drops the last reference
    put_frees: bool = False
    # the call returns the pointer it replaced or removed (now unpublished)
    returns_old: bool = False
    get: int | None = None
    # the get's object keeps a reference for RCU readers until a grace period after they
    # can no longer find it (a task_struct's last put is call_rcu()'d): a plain get
    # under RCU cannot resurrect it
    get_under_rcu: bool = False
    put: int | None = None
    # (inferred) the put happens on some of the callee's paths only, not on every one
    # where its argument is not NULL (`if (refcount_dec_and_test(&x->users)) put(x)`)
    put_maybe: bool = False
    # "true": the put happens only when the call returns true (`refcount_dec_not_one()`
    # leaves the count alone when it would drop the last reference); where a branch
    # shows it returned false, the reference is still held
    put_if: str = ""
    tryget: int | None = None
    # argument index of a plain counter incremented unless it is zero
    # (`atomic_inc_not_zero(&bl->refs)`): a tryget of the counter's object where that
    # counter is its reference count — which only the free its dec-and-test guards shows
    # (see rcu-free-without-grace); otherwise any counter
    counter_tryget: int | None = None
    # argument index of a plain counter incremented (`atomic64_inc(&prog->aux->refcnt)`),
    # or decremented and tested (`atomic_dec_and_test(&x->refs)`): a get, or a put, of
    # the object the counter is reached from where that counter is its reference count
    # (`analyzer/engine/counters.py`); otherwise any counter
    counter_inc: int | None = None
    counter_put: int | None = None
    # argument index of a pointer's address (`&dst`) through which the call hands back a
    # new reference; out_ref_if "ok": only when it returns 0 (failing with a -errno)
    out_ref: int | None = None
    out_ref_if: str = ""
    # argument index of the number of references taken or dropped
    count: int | None = None
    # returns true when it dropped the last reference
    last: bool = False
    # returns a negative errno (PTR_ERR() of an error pointer)
    errno: bool = False
    # argument index of a pointer the call tests for an error pointer (IS_ERR()): when
    # it returns true the pointer holds no object, and no reference
    err_test: int | None = None
    # the test is also true for NULL (IS_ERR_OR_NULL())
    err_or_null: bool = False
    # a put that takes an error pointer and does nothing with it (inferred where the body
    # tests the parameter with IS_ERR()/IS_ERR_OR_NULL() itself)
    accepts_err: bool = False
    # inferred: parameters the body gives to a callee nothing is known of (an ops
    # pointer's `fwnode->ops->put(fwnode)`): the body does not show what becomes of them
    opaque_params: tuple[int, ...] = ()
    # argument index of the function that runs when the last reference is dropped
    # (kref_put()'s release, percpu_ref_init()'s)
    release: int | None = None
    returns_ref: bool = False
    # inferred: the object it returns comes with a reference on what one of its fields
    # points to (`"->owner"`: `if (try_module_get(t->owner)) return t;`)
    returns_pin: str = ""
    # inferred: some value it returns comes from a callee nothing is known of, so the
    # body does not show whether a reference goes with it (see engine/beliefs.py)
    returns_opaque: bool = False
    # the reference is taken (or dropped) through a field of an object and pins that
    # object: try_module_get(ops->owner) keeps the module, and so ops, alive
    pins_container: bool = False
    # the tryget fails on a state of the object's owner, not on a zero count (a module
    # going away: kernel/module/main.c, try_module_get()), so whatever keeps the object
    # alive does not make it succeed
    fails_on_state: bool = False
    same_object: int | None = None
    consumes: int | None = None
    # the callee keeps it only when it succeeds: "ok" when it returns 0 (and fails with
    # a negative errno), "nonneg" when it returns an id >= 0; a branch that shows the
    # failure gives the reference back to the caller
    consumes_if: str = ""
    # argument index of an object unlinked from a list: the reference the list held
    # comes back with it (a put that follows drops that one, not the caller's)
    takes_back: int | None = None
    # argument index of a reference tracker (`&q->dev_tracker`): the reference the call
    # takes, returns or drops is the one the structure holding the tracker keeps, not
    # the caller's (include/linux/netdevice.h, netdev_hold()/netdev_put()); a tracker on
    # the caller's stack, its caller's, or none names the caller's own reference
    owner: int | None = None
    # argument index of the structure that keeps the consumed object: a local one
    # (`&tmp_list`) keeps it only while the function runs, so nothing is handed over
    into: int | None = None
    consumes_more: tuple[int, ...] = ()
    derefs: tuple[int, ...] = ()
    # argument indexes the call writes through but leaves as branches test them
    keeps: tuple[int, ...] = ()
    # inferred: the returned reference, or a put, is on the object reached from an
    # argument by field paths: (argument index, "->f|->g->f")
    returns_handle: tuple[int, str] | None = None
    # inferred: returns, with no reference, the pointer at this field path of an
    # argument (`return f->priv;`): (argument index, "->priv")
    projects: tuple[int, str] | None = None
    puts_handles: tuple[tuple[int, str], ...] = ()
    # inferred: `requires`/`sleeps` hold only under one of these conjunctions of
    # conditions on the arguments, each (argument index, field path, operator, constant,
    # truth): `mask & MAY_NOT_BLOCK` true; empty means always.  At a call, conditions
    # the arguments decide are dropped; the rest are the caller's, on its parameters,
    # or unknown (index -1)
    requires_when: tuple = ()
    sleeps_when: tuple = ()
    # for entries inferred from a body: the steps that justify `sleeps`/`requires`
    why: tuple = ()
    why_requires: str = ""
    sleeps_outside_caller_rcu: bool = False
    # inferred: releases its caller's section of this flavour on some path
    releases_caller: str | None = None
    # inferred: per parameter, the struct its pointer reaches (for `Call.types` of calls
    # the lowering did not know to type)
    param_types: tuple[str, ...] = ()
    inferred: bool = False
    # inferred from a body read in another file for its callers (`follow`), whose own
    # callees were followed only so far: what it shows it does, not what it does not
    followed: bool = False

    @property
    def typed(self) -> bool:
        """The lowering records its arguments' struct types (see `Call.types`)."""
        return any(i is not None for i in (self.frees, self.defers_free, self.publishes,
                                            self.get, self.put, self.tryget,
                                            self.counter_tryget, self.counter_inc,
                                            self.counter_put,
                                            self.unpublishes, self.callback,
                                            self.release))


@dataclass(frozen=True)
class AccessModel:
    name: str
    needs: str = "rcu"
    handle: int | None = None
    cond: int | None = None
    # the loaded pointer is a reader's (valid only inside the section); false for the
    # update side (rcu_dereference_protected(): the writer's lock keeps it) and for
    # value-only accessors (rcu_access_pointer())
    reader: bool = True


@dataclass(frozen=True)
class WalkModel:
    name: str
    needs: str = "rcu"
    cursor: int = 0
    head: int = 1
    cond: int | None = None


@dataclass(frozen=True)
class Flavour:
    """A read-side flavour: what it is called and which grace periods wait for it."""

    name: str
    display: str = ""
    lock: str = ""
    unlock: str = ""
    vanilla: bool = False   # synchronize_rcu()/call_rcu() wait for it
    explicit: bool = True   # taken on purpose (not preemption/IRQ/BH disabled in passing)
    handle: bool = False    # sections are per object (an srcu_struct)
    # the type of that object: an annotation naming one (`__releases(&head->srcu)`) is
    # about a section of this flavour
    handle_type: str = ""


@dataclass(frozen=True)
class Naming:
    """The kernel's naming conventions, for callees whose body is not analysed."""

    put: re.Pattern | None = None
    # the verb inside the name (`nfs_put_client`): a put only of a held reference
    put_infix: re.Pattern | None = None
    not_put: re.Pattern | None = None
    # may take a reference on its first argument (`sock_hold()`, `dev_hold()`,
    # `get_device()`): never counted as a get, only as a sign that a put which follows
    # may pair with it rather than with the call that produced the object
    get: re.Pattern | None = None
    # tears an object down (`foo_destroy()`, `foo_uninit()`, `free_foo()`): may release
    # what the object's fields hold
    destructor: re.Pattern | None = None
    lock_assertion: re.Pattern | None = None
    # names that say a function takes, releases, or conditionally takes a lock for its
    # caller: evidence that a section left held (or released) across its return is meant
    acquires: re.Pattern | None = None
    releases: re.Pattern | None = None
    trylock: re.Pattern | None = None
    # says it runs inside its caller's read-side section (`dev_get_by_index_rcu()`,
    # `l3mdev_master_ifindex_rcu()`): its callers hold the lock by convention
    in_reader: re.Pattern | None = None


@dataclass(frozen=True)
class Gfp:
    reclaim_bit: str = ""
    sleeping: tuple[str, ...] = ()
    atomic: tuple[str, ...] = ()
    cleared: tuple[str, ...] = ()


@dataclass(frozen=True)
class Guards:
    type: re.Pattern | None = None
    destructor: str = ""

    def destructor_for(self, type_spelling: str) -> str | None:
        """`class_rcu_t` → `class_rcu_destructor`: what runs when the guard leaves scope."""
        if self.type is None:
            return None
        m = self.type.match(type_spelling)
        return self.destructor.format(m.group(1)) if m else None


_SECTIONS = {"fn", "access", "walk", "objects", "flavour", "naming", "gfp", "guards",
             "annotations"}


class ApiModel:
    """Merged model: shipped file first, then users' files, later files winning."""

    def __init__(self) -> None:
        self.fns: dict[str, FnModel] = {}
        self.access: dict[str, AccessModel] = {}
        self.walks: dict[str, WalkModel] = {}
        self.flavours: dict[str, Flavour] = {}
        self.immortal: set[str] = set()
        # the types of the heads call_rcu() takes (`struct callback_head`)
        self.rcu_head_types: set[str] = set()
        self.naming = Naming()
        self.gfp = Gfp()
        self.guards = Guards()
        # sparse context names (`__acquires(RCU)`) that mean a read-side flavour
        self.annotations: dict[str, str] = {}
        self.texts: list[str] = []

    @classmethod
    def load(cls, extra: list[str | Path] | None = None) -> ApiModel:
        model = cls()
        shipped = resources.files("analyzer.model").joinpath("data/kernel-api.toml").read_text()
        model.merge(shipped, "the shipped model")
        for path in extra or []:
            try:
                text = Path(path).read_text()
            except OSError as exc:
                raise InputError(f"cannot read model file {path}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise InputError(f"model file {path} is not UTF-8 text") from None
            model.merge(text, f"model file {path}")
        return model

    # --- derived views --------------------------------------------------------------------
    @property
    def vanilla(self) -> frozenset[str]:
        return frozenset(k for k, f in self.flavours.items() if f.vanilla)

    @property
    def explicit_vanilla(self) -> frozenset[str]:
        return frozenset(k for k, f in self.flavours.items() if f.vanilla and f.explicit)

    def fingerprint(self) -> str:
        """Identifies the merged model, for caches of results that depend on it."""
        return hashlib.sha256("\0".join(self.texts).encode()).hexdigest()[:16]

    def fn(self, name: str | None) -> FnModel | None:
        return self.fns.get(name) if name else None

    def macro_names(self) -> set[str]:
        """Names the lowering recognises at a macro use site."""
        return set(self.fns) | set(self.access) | set(self.walks)

    def names_a_put(self, name: str) -> bool:
        n = self.naming
        return bool(n.put and n.put.fullmatch(name)) and not (
            n.not_put and n.not_put.fullmatch(name))

    def names_a_put_inside(self, name: str) -> bool:
        """`nfs_put_client`: a put by the verb inside its name (see `naming.put_infix`)."""
        n = self.naming
        return bool(n.put_infix and n.put_infix.fullmatch(name)) and \
            not self.names_a_put(name) and not (n.not_put and n.not_put.fullmatch(name))

    def names_a_destructor(self, name: str) -> bool:
        return bool(self.naming.destructor and self.naming.destructor.fullmatch(name))

    def names_a_get(self, name: str) -> bool:
        return bool(self.naming.get and self.naming.get.fullmatch(name))

    def names_a_lock_assertion(self, name: str) -> bool:
        return bool(self.naming.lock_assertion and self.naming.lock_assertion.fullmatch(name))

    def named_as(self, name: str, kind: str) -> bool:
        """Does `name` follow the convention of `kind` (acquires, releases, trylock)?"""
        pattern = getattr(self.naming, kind)
        return bool(pattern and pattern.fullmatch(name))

    # --- loading -------------------------------------------------------------------------
    def merge(self, text: str, origin: str) -> None:
        self.texts.append(text)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{origin} is not valid TOML: {exc}") from None
        unknown = set(data) - _SECTIONS
        if unknown:
            raise InputError(f"{origin} has unknown sections: {', '.join(sorted(unknown))}")
        for name, entry in data.get("flavour", {}).items():
            self.flavours[name] = _build(Flavour, name, entry, origin)
        objects = data.get("objects", {})
        if not isinstance(objects, dict) or set(objects) - {"immortal", "rcu_head"} or \
                not all(isinstance(n, str) for key in ("immortal", "rcu_head")
                        for n in objects.get(key, [])):
            raise InputError(f"{origin}: [objects] takes only immortal = [names] and "
                             "rcu_head = [struct types]")
        self.immortal |= set(objects.get("immortal", []))
        self.rcu_head_types |= set(objects.get("rcu_head", []))
        if "naming" in data:
            self.naming = Naming(**{k: _regex(v, f"{origin}: [naming] {k}")
                                    for k, v in _table(data, "naming", Naming, origin).items()})
        if "gfp" in data:
            entry = _table(data, "gfp", Gfp, origin)
            self.gfp = Gfp(**{k: tuple(v) if isinstance(v, list) else v
                              for k, v in entry.items()})
        annotations = data.get("annotations", {})
        if not isinstance(annotations, dict) or not all(
                isinstance(v, str) for v in annotations.values()):
            raise InputError(f"{origin}: [annotations] maps context names to flavours")
        self.annotations.update(annotations)
        if "guards" in data:
            entry = _table(data, "guards", Guards, origin)
            self.guards = Guards(_regex(entry.get("type", ""), f"{origin}: [guards] type"),
                                 entry.get("destructor", ""))
        seen: dict[str, str] = {}
        for name, entry in data.get("fn", {}).items():
            aliases = entry.pop("aliases", []) if isinstance(entry, dict) else []
            fm = _build(FnModel, name, entry, origin)
            for alias in [name, *aliases]:
                if alias in seen:
                    line = _line_of(text, alias, 2)
                    raise InputError(f"{origin}, line {line}: {alias} is already described "
                                     f"(as part of [fn.{seen[alias]}])")
                seen[alias] = name
                self.fns[alias] = FnModel(**{**fm.__dict__, "name": alias})
        for name, entry in data.get("access", {}).items():
            self.access[name] = _build(AccessModel, name, entry, origin)
        for name, entry in data.get("walk", {}).items():
            self.walks[name] = _build(WalkModel, name, entry, origin)
        self._validate(origin)

    def _validate(self, origin: str) -> None:
        names = set(self.flavours)
        for context, flavour in self.annotations.items():
            if flavour not in names:
                raise InputError(f"{origin}: [annotations] {context} must name a flavour")
        for fm in self.fns.values():
            for key in ("enter", "exit", "asserts", "waits_gp", "requires"):
                value = getattr(fm, key)
                if value is not None and value not in names:
                    raise InputError(f"{origin}: entry {fm.name}: {key} must be one of "
                                     f"{', '.join(sorted(names))}")
        for table in (self.access, self.walks):
            for am in table.values():
                if am.needs not in (*names, "none"):
                    raise InputError(f"{origin}: entry {am.name}: needs must be a flavour or "
                                     "\"none\"")


def _table(data: dict, section: str, cls, origin: str) -> dict:
    entry = data[section]
    if not isinstance(entry, dict):
        raise InputError(f"{origin}: [{section}] must be a table")
    bad = set(entry) - {f.name for f in fields(cls)}
    if bad:
        raise InputError(f"{origin}: [{section}] has unknown keys: {', '.join(sorted(bad))}")
    return entry


def _regex(value: object, where: str) -> re.Pattern | None:
    if not value:
        return None
    if not isinstance(value, str):
        raise InputError(f"{where} must be a regular expression string")
    try:
        return re.compile(value)
    except re.error as exc:
        raise InputError(f"{where} is not a valid regular expression: {exc}") from None


def _line_of(text: str, name: str, nth: int) -> int:
    """The line of the `nth` mention of `name` as a key or a quoted alias."""
    pattern = re.compile(rf'(\[fn\.{re.escape(name)}\]|"{re.escape(name)}")')
    hits = [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]
    return hits[min(nth, len(hits)) - 1] if hits else 0


def _build(cls, name: str, entry: object, origin: str):
    if not isinstance(entry, dict):
        raise InputError(f"{origin}: entry {name} must be a table")
    allowed = {f.name for f in fields(cls)} - {"name"}
    bad = set(entry) - allowed
    if bad:
        raise InputError(f"{origin}: entry {name} has unknown keys: {', '.join(sorted(bad))}")
    for key in ("derefs", "keeps", "consumes_more", "publishes"):
        if key in entry:
            entry = {**entry, key: tuple(entry[key])}
    if "replaces" in entry:
        rows = entry["replaces"]
        if not isinstance(rows, list) or not all(
                isinstance(r, list) and len(r) == 3 and isinstance(r[0], int) and
                isinstance(r[1], str) and r[1].startswith("->") and isinstance(r[2], str)
                for r in rows):
            raise InputError(f"{origin}: entry {name}: replaces must be a list of "
                             '[argument, "->field", "struct T"]')
        entry = {**entry, "replaces": tuple(tuple(r) for r in rows)}
    return cls(name=name, **entry)
