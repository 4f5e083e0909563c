"""The rule registry.  The checker interface itself is the engine's (`analyzer.engine.hooks`):
rule metadata, hooks on engine events, and an optional per-path slot."""

from __future__ import annotations

from analyzer.engine.hooks import Checker, Slot

REGISTRY: dict[str, type[Checker]] = {}


def register(cls: type[Checker]) -> type[Checker]:
    """Add a checker under its rule id; its docstring becomes the rule's documentation."""
    cls.rule = cls.rule.with_doc(cls)
    if cls.rule.id in REGISTRY:
        raise ValueError(f"rule {cls.rule.id} registered twice")
    REGISTRY[cls.rule.id] = cls
    return cls


def checker_classes(rules: list[str] | None = None) -> list[type[Checker]]:
    """The checkers of `rules` (all of them when None), in rule-id order."""
    return [REGISTRY[r] for r in sorted(REGISTRY if rules is None else rules)]


__all__ = ["REGISTRY", "Checker", "Slot", "checker_classes", "register"]
