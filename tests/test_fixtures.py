"""Every fixture: each `expect: RULE@level` marker is reported at its line, and nothing else."""

import pytest

from tests.conftest import FIXTURES
from tests.fixture_check import compare, expected

RULE_FIXTURES = sorted(p for p in FIXTURES.glob("*.c"))


@pytest.mark.parametrize("path", RULE_FIXTURES, ids=lambda p: p.name)
def test_fixture_findings_match_markers(path):
    missing, extra, findings = compare(path)
    detail = "\n".join(f"  {f.loc.line}: {f.rule}@{f.level}: {f.message}" for f in findings)
    assert not missing, f"expected but not reported: {sorted(missing)}\nreported:\n{detail}"
    assert not extra, f"reported but not expected: {sorted(extra)}\nreported:\n{detail}"


def test_rule_fixtures_have_enough_cases():
    """Every rule has its fixture, with at least six buggy and six correct functions."""
    from checkers import REGISTRY

    per_rule = {p.stem.replace("_", "-"): p for p in RULE_FIXTURES}
    assert set(REGISTRY) <= set(per_rule)
    for rule in REGISTRY:
        path = per_rule[rule]
        text = path.read_text()
        assert {r for _, r, _ in expected(path)} >= {rule}, path.name
        bugs = len({ln for ln, _, _ in expected(path)})
        buggy_part, _, correct_part = text.partition("---- correct")
        assert bugs >= 6, path.name
        assert correct_part.count("\nstatic ") >= 6, path.name
        assert buggy_part.count("\nstatic ") >= 6, path.name
