"""Path notes: each step says what the path assumes, as a reader checks it on the source."""

import functools
import itertools
import json
import os
import re
from pathlib import Path

import pytest

from analyzer.report.text import format_finding
from checkers import checker_classes
from tests.conftest import FIXTURES, fixture_tree, run_cli
from tests.fixture_check import run_fixtures

UNIT = """\
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/memcontrol.h>
#include <linux/types.h>

struct node { struct list_head list; struct mem_cgroup *memcg; int busy; };
struct table { struct node __rcu *first; struct list_head nodes; int nr; };

int table_charge(struct mem_cgroup *memcg);

int table_busy(struct table *t, bool wait)
{
	struct node *n, *first;
	int busy = 0;

	rcu_read_lock();
	first = rcu_dereference(t->first);
	if (unlikely(!first))
		goto out;
	list_for_each_entry_rcu(n, &t->nodes, list) {
		if (n->busy && css_tryget(&n->memcg->css)) {
			if (table_charge(n->memcg) < 0)
				return -ENOMEM;
			css_put(&n->memcg->css);
			busy++;
		}
	}
	while (t->nr > 8 && wait)
		t->nr--;
out:
	rcu_read_unlock();
	return busy;
}
"""


def notes_of(text: str) -> list[str]:
    return re.findall(r"^    \S+:\d+:\d+: note: (.*)$", text, re.M)


def test_branch_notes_state_the_assumption_not_the_branch(tmp_path):
    root = fixture_tree(tmp_path / "linux", {"mm/table.c": UNIT})
    res = run_cli("scan", "--tree", str(root), "mm/table.c")
    assert res.returncode == 1, res.stderr
    notes = notes_of(res.stdout)
    # `if (unlikely(!first)) goto out;` taken the way that goes on: `first` is not NULL
    assert "`first` is not NULL" in notes
    # a loop a macro writes is entered, named as the source writes it
    assert "entering the loop `list_for_each_entry_rcu(n, &t->nodes, list)`" in notes
    # the value a call returns, by its type; an int field tested bare; a comparison
    assert "`css_tryget(&n->memcg->css)` returns true" in notes
    assert "`n->busy` is not 0" in notes
    assert "`table_charge(n->memcg) < 0` is true" in notes
    # no note says "branch", and none repeats the one before it
    assert not any("branch" in n for n in notes)
    assert all(a != b for a, b in itertools.pairwise(notes))


# --- reviewed snapshots of every fixture finding's notes ---------------------------------

SNAPSHOTS = Path(__file__).parent / "snapshots" / "notes"
UPDATE = os.environ.get("RCUCHECK_UPDATE_SNAPSHOTS") == "1"


def told(findings, rel) -> str:
    """The findings with their notes, as `rcucheck scan` prints them, in report order."""
    ordered = sorted(findings, key=lambda f: (rel(f.loc.file), *f.sort_key()[1:]))
    return "".join(format_finding(f, rel) + "\n" for f in ordered)


def check_snapshot(name: str, text: str) -> None:
    """`text` is the reviewed snapshot `name`; RCUCHECK_UPDATE_SNAPSHOTS=1 rewrites it
    (then review the diff)."""
    path = SNAPSHOTS / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"no snapshot {path}: run with RCUCHECK_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"the notes of {name} changed: review and update"


def check_notes_read_as_source(findings, read) -> None:
    """No note repeats the one before it, no note says "branch", and every expression a
    branch or loop note quotes is written in the source where the note points (so no
    macro's internals)."""
    for f in findings:
        where = f"{f.function}: {f.message}"
        assert all(a != b for a, b in itertools.pairwise(f.notes)), where
        for loc, text in f.notes:
            assert "branch" not in text or "on this branch" in text, (where, text)
            m = re.match(r"(?:(?:entering|leaving) the loop:? )?`([^`]*)`", text)
            if not m:
                continue
            quoted = m.group(1).removesuffix("...")
            lines = read(loc.file)[loc.line - 1:loc.line + 5]
            source = "".join("".join(line.split()) for line in lines)
            assert "".join(quoted.split()) in source, (where, loc.line, text)


@functools.cache
def _lines(path: str) -> list[str]:
    return Path(path).read_text(errors="replace").splitlines()


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.c")), ids=lambda p: p.name)
def test_fixture_notes_are_reviewed_snapshots(path):
    res = run_fixtures(path)
    check_notes_read_as_source(res.findings, _lines)
    check_snapshot(path.stem + ".txt", told(res.findings, lambda p: Path(p).name))


def test_sarif_code_flows_are_the_notes_then_the_finding():
    from analyzer.report import sarif

    path = FIXTURES / "ref_leak.c"
    res = run_fixtures(path)
    log = json.loads(sarif.render(sarif.build_log(sarif.SarifInput(
        [c.rule for c in checker_classes()], res.findings, FIXTURES, lambda p: Path(p).name,
        [], None, {}))))
    results = log["runs"][0]["results"]
    assert len(results) == len(res.findings) > 0
    by_place = {(f.loc.line, f.rule): f for f in res.findings}
    for r in results:
        line = r["locations"][0]["physicalLocation"]["region"]["startLine"]
        f = by_place[(line, r["ruleId"])]
        flow = r["codeFlows"][0]["threadFlows"][0]["locations"]
        said = [(x["location"]["physicalLocation"]["region"]["startLine"],
                 x["location"]["message"]["text"]) for x in flow]
        assert said == [(loc.line, sarif.sentence(text)) for loc, text in f.notes] + \
            [(line, sarif.sentence(f.message))]
