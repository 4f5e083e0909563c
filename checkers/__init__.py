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

__all__ = ["REGISTRY", "Checker", "checker_classes", "register"]
