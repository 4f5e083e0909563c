"""Rules and findings: what a checker declares and what it reports."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, replace

from analyzer.ir.events import Loc


@dataclass(frozen=True)
class Rule:
    """A rule's stable metadata; `doc` is the checker's docstring (What/Why/Example/Fix)."""

    id: str
    name: str
    short: str
    level: str = "warning"
    precision: str = "high"
    cwe: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    doc: str = ""
    # the kinds of path step its findings' notes tell: "branch", "section", "ref"
    path: tuple[str, ...] = ("branch", "section", "ref")

    def with_doc(self, obj: object) -> Rule:
        return replace(self, doc=inspect.cleandoc(obj.__doc__ or ""))


@dataclass
class Finding:
    rule: str
    level: str
    loc: Loc
    message: str
    function: str
    notes: list[tuple[Loc, str]] = field(default_factory=list)
    confidence: str = "high"
    # the line-free fingerprint, assigned once per run before any filtering (and the
    # previous scheme's, still matched by baselines and suppressions for one release)
    fingerprint: str = ""
    legacy_fingerprint: str = ""
    # what must be true of the whole program for the finding to stand, for its rule's
    # `resolve` to decide once every function has run (plain data: tuples of strings)
    conditions: tuple = ()
    # the registered exceptions (`analyzer.engine.exceptions`) that demoted it to a note
    demoted_by: tuple[str, ...] = ()
    # the exceptions turned off (`--disable-exception`) that would have silenced or
    # demoted it: what each one hides, for scripts/corpus and scripts/precision
    waived_by: tuple[str, ...] = ()

    def sort_key(self):
        return (self.loc.file, self.loc.line, self.loc.col, self.rule, self.message)
