"""The vocabulary every layer shares: locations, values, events, CFGs, rules, findings.

Plain data only, so that lowered functions and findings cross process
boundaries and caches unchanged.
"""

from analyzer.ir import events
from analyzer.ir.events import *  # noqa: F403  (the events module's __all__)
from analyzer.ir.findings import Finding, Rule

__all__ = [*events.__all__, "Finding", "Rule"]
