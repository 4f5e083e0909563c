"""The abstract state the engine carries along each path.

Immutable and hashable (minus the trail of notes), so that a program point can
hold a bounded set of distinct states and a path reaching a state already seen
there stops.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analyzer.ir import Loc
from analyzer.model import VANILLA


def replace(obj, **changes):
    """`dataclasses.replace` without re-running `__init__`: states are copied a lot.

    Only for plain (non-slotted, no `__post_init__`) frozen dataclasses such as
    `State` and `Val`, whose fields are all given by keyword here.
    """
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


CAP = 4          # nesting deeper than this is "many"
UNKNOWN = -1     # depth after merging paths that disagree
TRAIL_MAX = 12


def flavour_key(flavour: str, handle: str | None = None) -> str:
    """`srcu` sections are keyed by their srcu_struct: `srcu:&my_srcu`."""
    if flavour == "srcu" and handle:
        return "srcu:" + handle.replace(" ", "").lstrip("&")
    return flavour


@dataclass(frozen=True)
class State:
    # read-side nesting per flavour key, sorted; absent means 0
    held: tuple[tuple[str, int], ...] = ()
    # flavours entered on this path in this function (for double unlocks)
    entered: frozenset[str] = frozenset()
    # flavours a lockdep-style assertion says the caller holds
    assumed: frozenset[str] = frozenset()
    # flavours this path released although the function never entered them (the caller's)
    borrowed: frozenset[str] = frozenset()
    # local variables with a known constant value (flags), for branch pruning
    consts: frozenset[tuple[str, int]] = frozenset()
    # what earlier branches established about local values: (name, is true)
    truths: frozenset[tuple[str, bool]] = frozenset()
    # effects that happen only if a value tests true: (value key, kind, flavour key)
    pending: frozenset[tuple[str, str, str]] = frozenset()
    # the constant a path returns, if any (for trylock-style effects)
    ret: int | None = None
    merged: bool = False
    # --- lifetimes (references and RCU provenance) ---
    # references held, by normalised object key, with their count
    refs: tuple[tuple[str, int], ...] = ()
    # objects whose reference this path has already dropped to zero
    dropped: frozenset[str] = frozenset()
    # objects whose tryget failed on this path
    failed: frozenset[str] = frozenset()
    # pointers loaded in a read-side section: (variable, "rcu" | "field", section ended)
    ptrs: frozenset[tuple[str, str, bool]] = frozenset()
    # variables that name another object: `css = &memcg->css` makes css an alias of memcg
    aliases: frozenset[tuple[str, str]] = frozenset()
    # second-hand pointers and what they were reached from: (variable, source variable)
    derived: frozenset[tuple[str, str]] = frozenset()
    # cursors of RCU list walks in progress, and those put outside RCU mid-walk
    walks: frozenset[str] = frozenset()
    put_cursors: frozenset[str] = frozenset()
    # objects stored (or returned) before this path took the reference that goes with them
    owed: frozenset[str] = frozenset()
    # objects removed from readers' view (list_del_rcu, pointer replaced) with no grace
    # period since, and the published location each RCU-loaded variable came from
    unpublished: frozenset[str] = frozenset()
    loaded_from: frozenset[tuple[str, str]] = frozenset()
    # the memory location a pointer variable was last loaded from (`pending = p->pending`)
    srcs: frozenset[tuple[str, str]] = frozenset()
    # not part of the identity of a state: where things happened, steps taken
    origins: tuple[tuple[str, Loc], ...] = ()
    trail: tuple[tuple[Loc, str], ...] = ()
    ref_origin: tuple[tuple[str, Loc, str], ...] = ()
    ptr_origin: tuple[tuple[str, Loc, str], ...] = ()
    put_locs: tuple[tuple[str, Loc, str], ...] = ()
    section_end: Loc | None = None
    unpub_locs: tuple[tuple[str, Loc, str], ...] = ()
    # what earlier branches had established when the outermost section was entered
    enter_truths: frozenset[tuple[str, bool]] = frozenset()

    def key(self):
        return (self.held, self.entered, self.assumed, self.borrowed, self.consts, self.truths,
                self.pending, self.ret, self.merged, self.refs, self.dropped, self.failed,
                self.ptrs, self.aliases, self.derived, self.walks, self.put_cursors, self.owed,
                self.unpublished, self.loaded_from, self.srcs)

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

    def vanilla_depth(self, explicit_only: bool = False) -> int:
        """Deepest vanilla nesting: UNKNOWN if some flavour is unknown and none is held."""
        best = 0
        unknown = False
        for k, d in self.held:
            if k in VANILLA and not (explicit_only and k == "implicit"):
                if d == UNKNOWN:
                    unknown = True
                else:
                    best = max(best, d)
        return UNKNOWN if unknown and best == 0 else best

    def holds(self, needs: str, handle: str | None = None) -> bool | None:
        """Is a section protecting accessor `needs` held? None when unknown."""
        if needs == "none":
            return True
        if needs in VANILLA:
            if self.assumed & set(VANILLA):
                return True
            d = self.vanilla_depth()
            return None if d == UNKNOWN else d > 0
        if needs == "srcu":
            if "srcu" in self.assumed:
                return True
            keys = [(k, d) for k, d in self.held if k.startswith("srcu")]
            if handle:
                want = flavour_key("srcu", handle)
                keys = [(k, d) for k, d in keys if k == want or k == "srcu"]
            if any(d == UNKNOWN for _, d in keys):
                return None
            return any(d > 0 for _, d in keys)
        d = self.depth(needs)
        return None if d == UNKNOWN else (d > 0 or needs in self.assumed)

    # --- values -----------------------------------------------------------------------
    def const(self, name: str) -> int | None:
        for k, v in self.consts:
            if k == name:
                return v
        return None

    def forget(self, name: str) -> State:
        consts = frozenset(c for c in self.consts if c[0] != name)
        pending = frozenset(p for p in self.pending if p[0] != name)
        word = re.compile(rf"(?<![\w.>]){re.escape(name)}\b")
        truths = frozenset(t for t in self.truths if not word.search(t[0]))
        if consts == self.consts and pending == self.pending and truths == self.truths:
            return self
        return replace(self, consts=consts, pending=pending, truths=truths)

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
            if self.refcount(self.alias(cur) or cur) > 0:
                return True
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

    def note(self, loc: Loc, text: str) -> State:
        trail = (*self.trail, (loc, text))[-TRAIL_MAX:]
        return replace(self, trail=trail)


def join(a: State, b: State) -> State:
    """Merge two states at a program point that has too many: disagreement is unknown."""
    held = {}
    for k in {k for k, _ in a.held} | {k for k, _ in b.held}:
        da, db = a.depth(k), b.depth(k)
        held[k] = da if da == db else UNKNOWN
    return State(
        held=tuple(sorted((k, d) for k, d in held.items() if d != 0)),
        entered=a.entered | b.entered,
        assumed=a.assumed & b.assumed,
        borrowed=a.borrowed | b.borrowed,
        consts=a.consts & b.consts,
        truths=a.truths & b.truths,
        pending=a.pending & b.pending,
        ret=a.ret if a.ret == b.ret else None,
        merged=True,
        refs=tuple(sorted(set(a.refs) & set(b.refs))),
        dropped=a.dropped & b.dropped,
        failed=a.failed & b.failed,
        ptrs=a.ptrs & b.ptrs,
        aliases=a.aliases & b.aliases,
        derived=a.derived & b.derived,
        walks=a.walks & b.walks,
        put_cursors=a.put_cursors & b.put_cursors,
        owed=a.owed & b.owed,
        unpublished=a.unpublished | b.unpublished,
        loaded_from=a.loaded_from & b.loaded_from,
        srcs=a.srcs & b.srcs,
        unpub_locs=a.unpub_locs,
        origins=a.origins or b.origins,
        trail=a.trail,
        ref_origin=a.ref_origin,
        ptr_origin=a.ptr_origin,
        put_locs=a.put_locs,
        section_end=a.section_end,
    )
