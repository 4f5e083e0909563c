"""Registered exceptions: the heuristics that keep a rule from reporting.

A heuristic that silences a finding hides the real bugs it matches as surely as
the false alarms.  Each one is registered here with a name, the rule it belongs
to, why it holds (the kernel convention or documentation it rests on), and the two
fixture functions that pin it: one it rightly silences, and the nearest real bug
it must not hide.  `rcucheck exceptions` lists them, `rcucheck explain RULE` shows
a rule's, and `--disable-exception ID` (or `all`) turns them off, so that
`scripts/corpus` and `scripts/precision` can measure what each one costs and buys.

A heuristic either silences a finding or demotes it to a note.  A checker asks
`run.allows(EXC)` at the point a silencing heuristic applies, and passes
`demote=EXC` to `report()` where a demoting one does (the finding then names the
exception in `demoted_by`); when the exception is off, the check goes on as if it
were not there.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL = "all"


@dataclass(frozen=True)
class Exception_:
    """One registered heuristic."""

    id: str          # "ref-leak.consumed-by-unknown-callee": rule, then the case
    rule: str
    summary: str     # one line: what it leaves unreported
    why: str         # the convention or documentation it rests on
    silences: str    # fixture function it rightly silences: "file.c:function"
    must_report: str  # the nearest real bug, a fixture function it must not hide
    effect: str = "silences"  # or "demotes": reported as a note instead of a warning
    # a finding it no longer silences when off names it (`Finding.waived_by`); False for
    # the engine's, applied as settings of a whole function's analysis
    attributed: bool = True

    def line(self) -> str:
        how = "" if self.effect == "silences" else " (demoted to a note)"
        return f"{self.id:44} {self.summary}{how}"


REGISTRY: dict[str, Exception_] = {}


def exception(id: str, rule: str, summary: str, why: str, silences: str,
              must_report: str, effect: str = "silences", attributed: bool = True
              ) -> Exception_:
    """Register a heuristic (once, at import of the module that applies it)."""
    if not id.startswith(rule + "."):
        raise ValueError(f"exception {id} must be named after its rule {rule}")
    if id in REGISTRY:
        raise ValueError(f"exception {id} registered twice")
    if effect not in ("silences", "demotes"):
        raise ValueError(f"exception {id}: effect {effect!r} is neither silences nor demotes")
    exc = Exception_(id, rule, summary, " ".join(why.split()), silences, must_report, effect,
                     attributed)
    REGISTRY[id] = exc
    return exc


def of_rule(rule: str) -> list[Exception_]:
    return [e for _, e in sorted(REGISTRY.items()) if e.rule == rule]


def check_disabled(ids) -> frozenset[str]:
    """The ids `--disable-exception` named, checked (`all` stands for every one)."""
    out = frozenset(ids)
    unknown = sorted(out - set(REGISTRY) - {ALL})
    if unknown:
        raise KeyError(", ".join(unknown))
    return out
