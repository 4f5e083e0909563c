"""Path notes: each step says what the path assumes, as a reader checks it on the source."""

import itertools
import re

from tests.conftest import fixture_tree, run_cli

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
