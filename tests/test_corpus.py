"""The corpus of real fixes and its scripts: well-formed, verifiable, scored as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest

from tests.conftest import CFG_UNIT, ROOT, fixture_tree

sys.path.insert(0, str(ROOT / "scripts"))

import corpus

from checkers import checker_classes

RULES = {c.rule.id for c in checker_classes()}
SLICE = ROOT / "bench" / "corpus" / "ci-slice.txt"


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / name), *args],
                          capture_output=True, text=True, timeout=1800,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_the_split_is_a_fixed_hash_of_the_id():
    # pinned: changing split_of() would move entries between the halves
    assert corpus.split_of("net-ipv4-example") == corpus.split_of("net-ipv4-example")
    halves = Counter(corpus.split_of(f"entry-{i}") for i in range(2000))
    assert set(halves) == {"dev", "test"}
    assert 900 < halves["test"] < 1100
    assert [corpus.split_of(i) for i in ("a", "b", "c", "d")] == \
        ["test" if __import__("hashlib").sha256(i.encode()).digest()[0] & 1 else "dev"
         for i in ("a", "b", "c", "d")]


def test_malformed_entries_are_reported_not_dropped(tmp_path):
    (tmp_path / "x.json").write_text(json.dumps([{"id": "only-an-id"}]))
    (tmp_path / "y.json").write_text("{ not json")
    entries, problems = corpus.load(tmp_path)
    assert entries == []
    assert len(problems) == 2 and "missing" in problems[0] and "not valid JSON" in problems[1]


@pytest.mark.realtree
def test_the_corpus_is_well_formed_and_wide(kernel_tree):
    """Every entry's text checks out in the tree; the corpus spans the kernel and the rules."""
    from analyzer.build.tree import KernelTree

    entries, problems = corpus.load()
    assert problems == []
    bad = corpus.check_text(KernelTree.open(kernel_tree), entries, RULES)
    assert bad == {}
    assert len(entries) >= 150
    assert len({e.subsystem for e in entries}) >= 15
    per_rule = Counter(r for e in entries for r in e.expect)
    assert {r for r in RULES if per_rule[r] < 5} == set()
    assert {e.split for e in entries} == {"dev", "test"}


# --- scoring, on a tree of the project's own fixtures ----------------------------------------

def entry(eid: str, find: str, replace: str, expect: str) -> dict:
    return {"id": eid, "subsystem": "mm", "file": "mm/cfg.c", "function": "cfg_weight",
            "find": find, "replace": replace, "expect": [expect], "commit": None,
            "subject": "a test entry", "year": 2026, "source": "tests/test_corpus.py",
            "kind": "analog", "note": "a test entry"}


def test_scoring_finds_the_bug_in_its_function_and_nothing_else(tmp_path):
    root = fixture_tree(tmp_path / "linux", {"mm/cfg.c": CFG_UNIT})
    cdir = tmp_path / "corpus"
    cdir.mkdir()
    (cdir / "mm.json").write_text(json.dumps([
        entry("t-unlock-gone", "\trcu_read_unlock();\n\treturn w;", "\treturn w;",
              "rcu-unbalanced"),
        entry("t-harmless", "\tint w = 0;\n", "\tint w;\n\tw = 0;\n", "rcu-unbalanced"),
        entry("t-twice", "\trcu_read_lock();\n", "\trcu_read_lock();\n", "rcu-unbalanced"),
    ]))
    out = tmp_path / "res.json"
    res = run_script("corpus.py", "--tree", str(root), "--corpus", str(cdir), "--json",
                     str(out), "--misses")
    assert res.returncode == 0, res.stderr
    got = {r["id"]: r for r in json.loads(out.read_text())}
    # an entry whose replacement equals its find is left out, and says why
    assert "t-twice" not in got and "t-twice left out: replace equals find" in res.stderr
    assert got["t-unlock-gone"]["found"] and not got["t-harmless"]["found"]
    assert got["t-unlock-gone"]["hits"][0].startswith("rcu-unbalanced in cfg_weight()")
    assert got["t-harmless"]["fixed_alarms"] == []
    assert "missed (1):" in res.stdout and "t-harmless" in res.stdout
    assert "false alarms on the fixed code: 0 warnings" in res.stdout


@pytest.mark.realtree
def test_verify_and_score_a_fixed_slice_of_the_corpus(kernel_tree, tmp_path):
    """The machinery on real entries, a few per rule: it verifies and it scores each."""
    ids = [ln.strip() for ln in SLICE.read_text().splitlines()
           if ln.strip() and not ln.startswith("#")]
    entries = {e.id: e for e in corpus.load()[0]}
    assert set(ids) <= set(entries) and len(ids) >= 10
    assert {entries[i].rule for i in ids} >= {"ref-leak", "rcu-unbalanced",
                                              "rcu-free-without-grace"}
    res = run_script("corpus.py", "--tree", str(kernel_tree), "--verify", "--ids",
                     ",".join(ids))
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"{len(ids)} of {len(ids)} entries verified" in res.stdout
    out = tmp_path / "res.json"
    res = run_script("corpus.py", "--tree", str(kernel_tree), "--ids", ",".join(ids),
                     "--json", str(out))
    assert res.returncode == 0, res.stderr
    got = json.loads(out.read_text())
    assert sorted(r["id"] for r in got) == sorted(ids)
    assert [r["id"] for r in got if r["error"]] == []
    for r in got:  # a found entry names its hits; a missed one has none
        assert bool(r["hits"]) == r["found"]
    # the slice's entries the rules find today must stay found: nfnetlink_rcv_msg() returning
    # -EINVAL with its section held; io_uring's fdinfo giving the sqpoll task, found under
    # RCU, to a callee in another file after the unlock; tiocspgrp() storing a pgrp found
    # under RCU, with no reference, into the field whose old reference it drops
    found = {r["id"]: r["found"] for r in got}
    assert found["net-netfilter-nfnetlink_rcv_msg-missing-unlock"]
    assert found["io_uring-show_fdinfo-sq-thread-task-ref"]
    assert found["drivers-tty-tiocspgrp-pgrp-no-ref"]
    assert "rule (first expected)" in res.stdout and "false alarms on the fixed code" in res.stdout
