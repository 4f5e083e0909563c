"""Helpers shared by the reference and lifetime checkers (not a rule)."""

from __future__ import annotations

from analyzer.lifetimes import obj_key
from analyzer.state import State


def loaded_at(st: State, name: str) -> str:
    origin = st.lookup(st.ptr_origin, name)
    return f" (loaded by {origin[2]} at line {origin[1].line})" if origin else ""


def taken_at(st: State, obj: str) -> str:
    origin = st.lookup(st.ref_origin, obj)
    return f" taken by {origin[2]} at line {origin[1].line}" if origin else ""


def ended_at(st: State) -> str:
    return f" at line {st.section_end.line}" if st.section_end is not None else ""


def protected(st: State, name: str) -> bool:
    """A reference is held on the object `name` points to, or on one reached from it."""
    return st.pinned(name)


def is_local(fn, name: str | None) -> bool:
    return bool(name) and name not in fn.params


__all__ = ["ended_at", "is_local", "loaded_at", "obj_key", "protected", "taken_at"]
