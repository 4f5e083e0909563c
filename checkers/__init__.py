"""rcucheck's rules: one module per rule, each a small set of hooks on engine events.

Importing this package registers every rule in `REGISTRY`, keyed by rule id.
"""

from checkers import (  # noqa: F401  (imported to register)
    rcu_deref_unprotected,
    rcu_sleep_in_reader,
    rcu_unbalanced,
)
from checkers.base import REGISTRY, Checker, register

__all__ = ["REGISTRY", "Checker", "register"]
