"""What checkers and observers subscribe to: the engine's events and per-path slots.

Like smatch's per-check hooks and the Clang Static Analyzer's program-state
traits: the engine walks the CFG and calls the hooks a subscriber overrides; a
subscriber that needs facts of its own along each path declares a `Slot`, which
the engine carries in the state, keys and joins for it.

Hooks run before the event's effect on the shared state, so a subscriber sees
the state as it was when the event happened.  A hook may return a new state that
differs only in the subscriber's own slot (through `put`); returning None keeps
the state.  `on_section_enter` is the exception: it sees the state just after the
section was entered.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

from analyzer.ir import Rule

HOOKS = ("on_call", "on_section_enter", "on_section_exit", "on_access", "on_walk",
         "on_deref", "on_plain", "on_assign", "on_return", "on_dead", "on_branch", "on_exit",
         "on_end")


def whole(value):
    """The default slot key: the whole value tells paths apart."""
    return value


@dataclass(frozen=True)
class Slot:
    """A subscriber's own part of the path state.

    `initial` is its value at function entry; `join` merges two paths' values when a
    program point holds too many states; `key` picks the part that tells paths apart
    (the default: all of it).
    """

    initial: Hashable
    join: Callable[[Any, Any], Any]
    key: Callable[[Any], Hashable] = whole


class Hooks:
    """A subscriber to engine events: a checker, or an observer that collects facts."""

    slot: ClassVar[Slot | None] = None

    def __init__(self, run) -> None:
        self.run = run
        self.fn = run.fn
        self.model = run.model
        self.slot_index = -1  # set by the run when the subscriber declares a slot

    # --- the subscriber's slot ------------------------------------------------------------
    def get(self, st):
        return st.slots[self.slot_index]

    def put(self, st, value):
        return st.with_slot(self.slot_index, value)

    # --- events ---------------------------------------------------------------------------
    def on_call(self, st, ev, fm): ...
    def on_section_enter(self, st, ev, fkey): ...
    def on_section_exit(self, st, ev, fkey): ...
    def on_access(self, st, ev, am): ...
    def on_walk(self, st, ev, wm): ...
    def on_deref(self, st, ev): ...
    def on_plain(self, st, ev): ...
    def on_assign(self, st, ev): ...
    def on_return(self, st, ev): ...
    def on_dead(self, st, ev): ...
    def on_branch(self, st, subject, outcome): ...
    def on_exit(self, st): ...
    def on_end(self, exit_states): ...

    @classmethod
    def subscribed(cls) -> list[str]:
        """The hooks this class overrides: the engine calls only those."""
        return [h for h in HOOKS if getattr(cls, h) is not getattr(Hooks, h)]


class Checker(Hooks):
    """A rule: its metadata, and the hooks that find its violations.

    Its docstring is the rule's documentation (What it finds / Why is this bad /
    Example / Use instead): `rcucheck explain`, SARIF help and the HTML report show it.
    A checker never walks cursors and never names a kernel function.
    """

    rule: ClassVar[Rule]

    def report(self, loc, message, state=None, *, obj: str | None, **kw) -> None:
        """One finding of this rule at `loc` about `obj` (the object or section it is
        about, as the function names it): one per rule, place and object."""
        self.run.report(self.rule, loc, message, state, obj=obj, **kw)

    @classmethod
    def resolve(cls, findings: list, facts: list[tuple[str, tuple]]) -> list:
        """Once every function has run: keep the rule's findings whose `conditions` hold.

        `facts` are what the rule's runs emitted, as (node of the emitting function,
        fact).  A rule whose findings depend on the whole program (is a helper's effect
        meant? does a partner exist?) decides here; by default every finding stands.
        """
        return findings
