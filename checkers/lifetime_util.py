"""Helpers shared by the reference and lifetime checkers (not a rule)."""

from __future__ import annotations

from analyzer.engine.lifetimes import field_root, obj_key, out_param, ref_key, value_key
from analyzer.engine.state import State
from analyzer.ir import Assign, Dead, Walk


def loaded_at(st: State, name: str) -> str:
    origin = st.lookup(st.ptr_origin, name)
    return f" (loaded by {origin[2]} at line {origin[1].line})" if origin else ""


def taken_at(st: State, obj: str) -> str:
    origin = st.lookup(st.ref_origin, obj)
    return f" taken by {origin[2]} at line {origin[1].line}" if origin else ""


def believed(run, st: State, obj: str):
    """The evidence (`engine.beliefs.Belief`) that `obj` holds a reference when only this
    function's own code says so: its taker is a callee whose results it releases on
    some path.  None for references the model or an analysed body shows."""
    origin = st.lookup(st.ref_origin, obj)
    return run.beliefs.get(origin[2].rstrip("()")) if origin else None


def ended_at(st: State) -> str:
    return f" at line {st.section_end.line}" if st.section_end is not None else ""


def protected(st: State, name: str) -> bool:
    """A reference is held on the object `name` points to, or on one reached from it."""
    return st.pinned(name)


def may_take(fm, index: int) -> bool:
    """Might a call take over the reference its argument `index` carries?

    Unless its model entry or its analysed body says what it does with the argument
    (puts, consumes, frees, publishes it), and says it completely (no callee nothing
    is known of is given the argument, callees were not followed only part of the
    way), it might."""
    if fm is None or (fm.inferred and (fm.followed or index in fm.opaque_params)):
        return True
    takes = {fm.put, fm.consumes, *fm.consumes_more, fm.frees, fm.defers_free,
             fm.takes_back, fm.release, *(i for i, _ in fm.puts_handles)}
    if fm.publishes is not None:
        takes.add(fm.publishes[1])
    return index in takes


def is_local(fn, name: str | None) -> bool:
    """Not a parameter's object (nor one a parameter's field points to)."""
    return bool(name) and (field_root(name) or name) not in fn.params


def without(entries: frozenset, names) -> frozenset:
    """`entries` (tuples keyed by a variable) minus those of the variables `names`."""
    if not entries or not names:
        return entries
    names = set(names)
    if not any(e[0] in names for e in entries):
        return entries
    return frozenset(e for e in entries if e[0] not in names)


def reset_names(ev) -> tuple[str, ...]:
    """The variables an event gives a new value (or ends): their per-path facts go."""
    if isinstance(ev, Assign):
        return (ev.target.text,) if ev.target.kind == "var" else ()
    if isinstance(ev, Dead):
        return ev.names
    if isinstance(ev, Walk):
        return (ev.cursor.text,)
    return ()


__all__ = ["believed", "ended_at", "is_local", "loaded_at", "may_take", "obj_key", "out_param",
           "protected", "ref_key", "reset_names", "taken_at", "value_key", "without"]
