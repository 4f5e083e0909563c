"""The abstract state the engine carries along each path.

Immutable and hashable, so that a program point can hold a bounded set of
distinct states and a path reaching a state already seen there stops.

The state holds only what several rules read: read-side sections, local
values and branch facts, references and RCU provenance.  A rule's own facts
live in its slot (`slots`, one entry per checker that declares one, see
`engine.hooks.Slot`).  Every shared field declares how it joins and whether it
is part of the state's identity, so `key()` and `join()` cannot drift apart.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, field, fields

from analyzer.ir import Loc

CAP = 4          # nesting or counts deeper than this are "many"
UNKNOWN = -1     # depth after merging paths that disagree


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a path worth telling a reader, linked to the one before.

    The state keeps the chain (sharing its tail with every path it branched from);
    a report walks it back and renders what bears on the finding
    (`analyzer.engine.notes`).  A branch keeps its test and outcome and is put into
    words only then.
    """

    prev: Step | None
    loc: Loc
    kind: str          # "branch", "section" (entered, left) or "ref" (taken, dropped, ...)
    about: str = ""    # the object of a reference step, the section of a section step
    text: str = ""     # what a section or reference step says
    cond: object = None  # a branch's test (`ir.Cond`)
    outcome: bool = False

    def chain(self) -> list[Step]:
        """The steps from the path's start to this one."""
        out, s = [], self
        while s is not None:
            out.append(s)
            s = s.prev
        out.reverse()
        return out


def replace(obj, **changes):
    """`dataclasses.replace` without re-running `__init__`: states are copied a lot.

    Only for plain (non-slotted, no `__post_init__`) frozen dataclasses such as
    `State` and `Val`, whose fields are all given by keyword here.
    """
    new = object.__new__(type(obj))
    d = new.__dict__
    d.update(obj.__dict__)
    d.update(changes)
    d.pop("_key", None)  # a state's memoised key (see `State.key`) describes the old one
    return new


def _f(default, join: str, key: bool = True):
    """A shared field: its default, how two paths' values join, whether it identifies a path.

    join: "and" (holds on both paths), "or" (on either), "same" (kept when equal, else
    the default), "first" (the first path's; for locations quoted in messages),
    "depths" (nesting depths: disagreement is UNKNOWN), "merged" (true after a join).
    """
    return field(default=default, metadata={"join": join, "key": key})


@dataclass(frozen=True)
class State:
    # --- sections ---------------------------------------------------------------------
    # read-side nesting per flavour key, sorted; absent means 0
    held: tuple[tuple[str, int], ...] = _f((), "depths")
    # flavours entered on this path in this function (for double unlocks)
    entered: frozenset[str] = _f(frozenset(), "or")
    # flavours a lockdep-style assertion says the caller holds
    assumed: frozenset[str] = _f(frozenset(), "and")
    # flavours this path released although the function never entered them (the caller's)
    borrowed: frozenset[str] = _f(frozenset(), "or")
    # --- values -----------------------------------------------------------------------
    # local variables with a known constant value (flags), for branch pruning
    consts: frozenset[tuple[str, int]] = _f(frozenset(), "and")
    # what earlier branches established about local values: (name, is true)
    truths: frozenset[tuple[str, bool]] = _f(frozenset(), "and")
    # the variables each truth's value was computed from: (truth key, variable); a new
    # value of the variable makes the truth unknown (`State.forget`)
    truth_roots: frozenset[tuple[str, str]] = _f(frozenset(), "or", key=False)
    # local values whose sign a comparison with 0 showed: (name, is negative)
    signs: frozenset[tuple[str, bool]] = _f(frozenset(), "and")
    # effects that happen only if a value tests true: (value key, kind, flavour or object)
    pending: frozenset[tuple[str, str, str]] = _f(frozenset(), "and")
    # the constant a path returns, if any (for trylock-style effects)
    ret: int | None = _f(None, "same")
    # ... or, when it is no constant, whether it is negative as far as a comparison with
    # 0 showed (`if (idx < 0) { ...; return idx; } ... return idx;`): None when unknown
    ret_negative: bool | None = _f(None, "same")
    merged: bool = _f(False, "merged")
    # --- lifetimes (references and RCU provenance) ---
    # references held, by normalised object key, with their count
    refs: tuple[tuple[str, int], ...] = _f((), "and")
    # objects whose reference this path has already dropped to zero
    dropped: frozenset[str] = _f(frozenset(), "and")
    # objects whose tryget failed on this path
    failed: frozenset[str] = _f(frozenset(), "and")
    # pointers loaded in a read-side section: (variable, "rcu" | "field" | "pinned", ended)
    ptrs: frozenset[tuple[str, str, bool]] = _f(frozenset(), "and")
    # variables that name another object: `css = &memcg->css` makes css an alias of memcg
    aliases: frozenset[tuple[str, str]] = _f(frozenset(), "and")
    # second-hand pointers and what they were reached from: (variable, source variable)
    derived: frozenset[tuple[str, str]] = _f(frozenset(), "and")
    # cursors of RCU list walks in progress
    walks: frozenset[str] = _f(frozenset(), "and")
    # objects stored (or returned) before this path took the reference that goes with them
    owed: frozenset[str] = _f(frozenset(), "and")
    # --- the rules' own facts, one slot per checker that declares one --------------------
    # (keyed through the slots' own key functions, see `key`)
    slots: tuple = _f((), "slots", key=False)
    # --- not part of a path's identity: where things happened, the steps taken -----------
    origins: tuple[tuple[str, Loc], ...] = _f((), "first", key=False)
    trail: Step | None = _f(None, "first", key=False)  # noqa: RUF009 (a field)
    ref_origin: tuple[tuple[str, Loc, str], ...] = _f((), "first", key=False)
    ptr_origin: tuple[tuple[str, Loc, str], ...] = _f((), "first", key=False)
    section_end: Loc | None = _f(None, "first", key=False)  # noqa: RUF009 (a field)
    # who opened each section still held, innermost last: (flavour key, the node of the
    # analysed helper whose effect opened it, or None when this function did)
    openers: tuple[tuple[str, str | None], ...] = _f((), "first", key=False)

    def key(self, slot_keys=None) -> tuple:
        """What distinguishes this path from another at the same point.

        `slot_keys` are the slots' key functions; without them a slot counts whole.
        """
        d = self.__dict__
        k = d.get("_key")
        if k is None:
            slots = d["slots"]
            if slot_keys is not None:
                slots = tuple(f(v) for f, v in zip(slot_keys, slots, strict=True))
            k = d["_key"] = (_KEY_OF(d), slots)
        return k

    def coarse_key(self) -> tuple:
        """What joined paths must agree on to stay apart from others: sections held,
        references, their failures and drops, RCU provenance, walks."""
        return (self.held, self.refs, self.dropped, self.failed, self.ptrs, self.walks)

    # --- sections ---------------------------------------------------------------------
    def depth(self, fkey: str) -> int:
        for k, d in self.held:
            if k == fkey:
                return d
        return 0

    def with_depth(self, fkey: str, depth: int) -> State:
        held = dict(self.held)
        if depth == 0:
            held.pop(fkey, None)
        else:
            held[fkey] = depth
        return replace(self, held=tuple(sorted(held.items())))

    def origin(self, fkey: str) -> Loc | None:
        for k, loc in self.origins:
            if k == fkey:
                return loc
        return None

    def with_origin(self, fkey: str, loc: Loc | None) -> State:
        rest = tuple((k, v) for k, v in self.origins if k != fkey)
        return replace(self, origins=rest + (((fkey, loc),) if loc else ()))

    def opener(self, fkey: str) -> str | None:
        """The helper that opened the innermost held section of `fkey` (None: this function)."""
        for k, who in reversed(self.openers):
            if k == fkey:
                return who
        return None

    def held_any(self, keys) -> int:
        """Deepest nesting among flavour keys `keys`: UNKNOWN if one is unknown and none held."""
        best = 0
        unknown = False
        for k, d in self.held:
            if k in keys:
                if d == UNKNOWN:
                    unknown = True
                else:
                    best = max(best, d)
        return UNKNOWN if unknown and best == 0 else best

    # --- values -----------------------------------------------------------------------
    def const(self, name: str) -> int | None:
        for k, v in self.consts:
            if k == name:
                return v
        return None

    def forget(self, name: str) -> State:
        consts = frozenset(c for c in self.consts if c[0] != name) if self.consts else self.consts
        pending = frozenset(p for p in self.pending if p[0] != name) if self.pending \
            else self.pending
        truths = self.truths
        signs = frozenset(x for x in self.signs if x[0] != name) if self.signs \
            else self.signs
        if truths:
            stale = {k for k, r in self.truth_roots if r == name}
            if stale or any(t[0] == name for t in truths):
                truths = frozenset(t for t in truths if t[0] != name and t[0] not in stale)
        if consts == self.consts and pending == self.pending and truths == self.truths \
                and signs == self.signs:
            return self
        return replace(self, consts=consts, pending=pending, truths=truths, signs=signs)

    def negative(self, name: str) -> bool | None:
        """Whether a comparison with 0 showed `name` negative (False: not negative)."""
        for k, v in self.signs:
            if k == name:
                return v
        return None

    def truth(self, name: str) -> bool | None:
        for k, v in self.truths:
            if k == name:
                return v
        return None

    # --- lifetimes ----------------------------------------------------------------------
    def refcount(self, obj: str) -> int:
        for k, n in self.refs:
            if k == obj:
                return n
        return 0

    def with_refcount(self, obj: str, n: int) -> State:
        refs = dict(self.refs)
        if n <= 0:
            refs.pop(obj, None)
        else:
            refs[obj] = min(n, CAP)
        return replace(self, refs=tuple(sorted(refs.items())))

    def alias(self, name: str) -> str | None:
        for k, v in self.aliases:
            if k == name:
                return v
        return None

    def pinned(self, name: str) -> bool:
        """A reference is held on `name`'s object or on one reached from it.

        A reference on a container reached from a pointer (`lruvec_memcg(lruvec)` for a
        cursor embedded in the lruvec) keeps the pointer's object alive too.
        """
        seen = {name}
        todo = [name]
        while todo:
            cur = todo.pop()
            base = self.alias(cur) or cur
            if self.refcount(base) > 0:
                return True
            if any(n > 0 and k.startswith(base + "->") for k, n in self.refs):
                return True  # `try_module_get(ops->owner)`: the module keeps ops
            for var, src in self.derived:
                if src == cur and var not in seen:
                    seen.add(var)
                    todo.append(var)
        return False

    def ptr(self, name: str) -> tuple[str, bool] | None:
        """(kind, stale) of a pointer loaded under RCU, or None."""
        for k, kind, stale in self.ptrs:
            if k == name:
                return kind, stale
        return None

    @staticmethod
    def lookup(table, name: str):
        for entry in reversed(table):
            if entry[0] == name:
                return entry
        return None

    def note(self, loc: Loc, text: str, kind: str = "ref", about: str = "") -> State:
        """A section or reference step on this path, for the notes of a report."""
        return replace(self, trail=Step(self.trail, loc, kind, about, text))

    def branched(self, cond, outcome: bool) -> State:
        """The path took this way at a test."""
        return replace(self, trail=Step(self.trail, cond.loc, "branch", cond=cond,
                                        outcome=outcome))

    def with_slot(self, index: int, value) -> State:
        slots = self.slots
        if slots[index] is value or slots[index] == value:
            return self
        return replace(self, slots=(*slots[:index], value, *slots[index + 1:]))


FIELDS = tuple((f.name, f.metadata["join"], f.default) for f in fields(State))
KEY_FIELDS = tuple(f.name for f in fields(State) if f.metadata["key"])
_KEY_OF = operator.itemgetter(*KEY_FIELDS)


def _join_depths(a, b):
    da, db = dict(a), dict(b)
    out = {}
    for k in da.keys() | db.keys():
        x, y = da.get(k, 0), db.get(k, 0)
        out[k] = x if x == y else UNKNOWN
    return tuple(sorted((k, d) for k, d in out.items() if d != 0))


_AND_SETS = tuple(n for n, how, d in FIELDS if how == "and" and not isinstance(d, tuple))
_AND_TUPLES = tuple(n for n, how, d in FIELDS if how == "and" and isinstance(d, tuple))
_OR = tuple(n for n, how, _ in FIELDS if how == "or")
_SAME = tuple((n, d) for n, how, d in FIELDS if how == "same")
_FIRST = tuple(n for n, how, _ in FIELDS if how == "first")
_DEPTHS = tuple(n for n, how, _ in FIELDS if how == "depths")
_MERGED = tuple(n for n, how, _ in FIELDS if how == "merged")
assert {n for n, _, _ in FIELDS} == {*_AND_SETS, *_AND_TUPLES, *_OR, *(n for n, _ in _SAME),
                                     *_FIRST, *_DEPTHS, *_MERGED, "slots"}


def join(a: State, b: State, slot_joins=()) -> State:
    """Merge two states at a program point that has too many: disagreement is unknown.

    `slot_joins` are the checkers' own joins, one per slot.
    """
    x, y = a.__dict__, b.__dict__
    out = {n: x[n] & y[n] for n in _AND_SETS}
    out.update({n: tuple(sorted(set(x[n]) & set(y[n]))) for n in _AND_TUPLES})
    out.update({n: x[n] | y[n] for n in _OR})
    out.update({n: x[n] if x[n] == y[n] else d for n, d in _SAME})
    out.update({n: x[n] or y[n] for n in _FIRST})
    out.update({n: _join_depths(x[n], y[n]) for n in _DEPTHS})
    out.update({n: True for n in _MERGED})
    out["slots"] = tuple(j(p, q) for j, p, q in zip(slot_joins, x["slots"], y["slots"],
                                                     strict=True))
    new = object.__new__(State)
    new.__dict__.update(out)
    return new
