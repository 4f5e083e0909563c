"""The checker interface: rule metadata plus hooks the engine calls.

Hooks run before the event's effect is applied to the state, so a checker sees
the state as it was when the event happened.  A checker never walks cursors;
everything it needs is in the event, the state and the API model.
"""

from __future__ import annotations

from typing import ClassVar

from analyzer.findings import Rule

REGISTRY: dict[str, type[Checker]] = {}


def register(cls: type[Checker]) -> type[Checker]:
    """Add a checker under its rule id; its docstring becomes the rule's documentation."""
    cls.rule = cls.rule.with_doc(cls)
    if cls.rule.id in REGISTRY:
        raise ValueError(f"rule {cls.rule.id} registered twice")
    REGISTRY[cls.rule.id] = cls
    return cls


class Checker:
    rule: ClassVar[Rule]

    def __init__(self, run) -> None:
        self.run = run
        self.fn = run.fn
        self.model = run.model

    def report(self, loc, message, state=None, **kw) -> None:
        self.run.report(self.rule, loc, message, state, **kw)

    # hooks ------------------------------------------------------------------------------
    def on_call(self, st, ev, fm) -> None: ...
    def on_section_enter(self, st, ev, fkey) -> None: ...
    def on_section_exit(self, st, ev, fkey) -> None: ...
    def on_access(self, st, ev, am) -> None: ...
    def on_walk(self, st, ev, wm) -> None: ...
    def on_deref(self, st, ev) -> None: ...
    def on_assign(self, st, ev) -> None: ...
    def on_return(self, st, ev) -> None: ...
    def on_dead(self, st, ev) -> None: ...
    def on_exit(self, st) -> None: ...
    def on_merge(self, block, st) -> None: ...
    def on_end(self, exit_states) -> None: ...
