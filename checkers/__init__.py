"""rcucheck's rules: one module per rule, each a small set of hooks on engine events.

Importing this package registers every rule in `REGISTRY`, keyed by rule id.
"""

from checkers import (  # noqa: F401  (imported to register)
    rcu_callback_context,
    rcu_deref_unprotected,
    rcu_free_without_grace,
    rcu_plain_access,
    rcu_sleep_in_reader,
    rcu_unbalanced,
    rcu_use_after_unlock,
    rcu_weak_ref_escape,
    ref_double_put,
    ref_get_unsafe,
    ref_leak,
    ref_put_outside_rcu,
    ref_unchecked_tryget,
)
from checkers.base import REGISTRY, Checker, checker_classes, register


def exception_registry() -> dict:
    """Every registered exception (`analyzer.engine.exceptions`), the engine's and the
    rules' alike, by id."""
    from analyzer.engine import run  # noqa: F401  (registers the engine's)
    from analyzer.engine.exceptions import REGISTRY as EXCEPTIONS
    return dict(EXCEPTIONS)


def early_exit_kinds() -> tuple[str, dict[str, int]]:
    """Where the ledger of the other early exits is, and how many of each kind."""
    from collections import Counter

    from analyzer.engine import early_exits

    kinds = Counter(e["kind"] for e in early_exits.ledger() for _ in range(e.get("count", 1)))
    where = early_exits.LEDGER.relative_to(early_exits.ROOT).as_posix()
    return where, {k: kinds[k] for k in early_exits.KINDS if kinds[k]}


def exceptions_check(ids) -> frozenset[str]:
    """The exception ids a user turned off, checked; KeyError names the unknown ones."""
    from analyzer.engine.exceptions import check_disabled
    exception_registry()
    return check_disabled(ids)


__all__ = ["REGISTRY", "Checker", "checker_classes", "early_exit_kinds", "exception_registry",
           "exceptions_check", "register"]
