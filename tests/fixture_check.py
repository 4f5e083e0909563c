"""Run rcucheck on fixtures through the driver and compare with their `expect:` markers.

A line ending in `expect: RULE@level` (several comma-separated, a rule repeated when
it is reported twice there) must be reported with exactly those rules and levels;
nothing else may be reported.  The comparison is of multisets, so a demoted,
promoted or duplicated report fails.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from analyzer.driver.phase1 import Job
from analyzer.driver.session import RunResult, Session
from analyzer.model import ApiModel
from checkers import checker_classes
from tests.conftest import FIXTURE_ARGS

_EXPECT = re.compile(r"expect:\s*([a-z0-9-]+@[a-z]+(?:\s*,\s*[a-z0-9-]+@[a-z]+)*)")
_MARKER = re.compile(r"expect:\s*[a-z]")


def expected(path: Path) -> Counter:
    """(line, rule, level) of every marker, counted."""
    out: Counter = Counter()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = _EXPECT.search(line)
        if m:
            for item in m.group(1).split(","):
                rule, level = item.strip().split("@")
                out[(n, rule, level)] += 1
        elif _MARKER.search(line):
            raise AssertionError(f"{path.name}:{n}: malformed marker (expect: RULE@level)")
    return out


def session(rules: list[str] | None = None, rel=str) -> Session:
    return Session(ApiModel.load(), checker_classes(rules), rel=rel)


def run_generated(src: Path, text: str, budget=None):
    """Write `text` to `src` and run it alone through the driver: (its unit, the run)."""
    src.write_text(text)
    s = session()
    if budget is not None:
        s.budget = budget
    res = s.run([Job(str(src), tuple(FIXTURE_ARGS), str(src))])
    (unit,) = res.units
    return unit, res


def run_fixtures(*paths: Path, rules: list[str] | None = None, rel=str) -> RunResult:
    """One driver run over the fixtures (their summaries shared, as in a CLI run)."""
    res = session(rules, rel).run([Job(str(p), tuple(FIXTURE_ARGS), str(p)) for p in paths])
    assert not res.failed, [u.why_not for u in res.failed]
    problems = [p for u in res.units for p in u.result.problems]
    assert not problems, problems
    return res


def compare(path: Path, rules: list[str] | None = None) -> tuple[Counter, Counter, list]:
    res = run_fixtures(path, rules=rules)
    got = Counter((f.loc.line, f.rule, f.level) for f in res.findings)
    want = Counter({k: n for k, n in expected(path).items() if rules is None or k[1] in rules})
    return want - got, got - want, res.findings
