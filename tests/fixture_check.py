"""Run rcucheck on a fixture and compare with its inline `expect: RULE` markers."""

from __future__ import annotations

import re
from pathlib import Path

from analyzer.analysis import analyze_tu
from analyzer.frontend import parse_file
from analyzer.model import ApiModel
from tests.conftest import FIXTURE_ARGS

_EXPECT = re.compile(r"expect:\s*([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)")


def expected(path: Path) -> set[tuple[int, str]]:
    out = set()
    for n, line in enumerate(path.read_text().splitlines(), 1):
        m = _EXPECT.search(line)
        if m:
            out |= {(n, r.strip()) for r in m.group(1).split(",")}
    return out


def run_fixture(path: Path, rules: list[str] | None = None):
    parsed = parse_file(path, FIXTURE_ARGS)
    assert parsed.errors == [], parsed.errors
    return analyze_tu(parsed, ApiModel.load(), rules)


def compare(path: Path, rules: list[str] | None = None) -> tuple[set, set, list]:
    result = run_fixture(path, rules)
    got = {(f.loc.line, f.rule) for f in result.findings}
    want = {(ln, r) for ln, r in expected(path) if rules is None or r in rules}
    return want - got, got - want, result.findings
