"""Callees in other files, followed (`--follow`): a file checked alone sees what the
tree's other files define, and only what it asked for is lowered there."""

import re

from tests.conftest import FIXTURES, fixture_tree, run_cli

BUGGY = {"tuser_value", "tuser_cached_flags", "tuser_sync"}
FIXED = {"tuser_value_fixed", "tuser_sync_fixed"}


def _tree(tmp_path):
    return fixture_tree(tmp_path / "linux", {
        "lib/tnode/core.c": (FIXTURES / "follow" / "core.c").read_text(),
        "net/tuser/user.c": (FIXTURES / "follow" / "user.c").read_text(),
    })


def _warned_functions(stdout: str, text: str) -> dict[str, set[str]]:
    """Rule ids of the warnings, by the user.c function whose lines they fall in."""
    spans, name, start = [], None, 0
    lines = text.split("\n")
    for i, line in enumerate(lines, 1):
        m = re.match(r"^(?:int|void) (\w+)\(", line)
        if m:
            name, start = m.group(1), i
        elif line == "}" and name:
            spans.append((name, start, i))
            name = None
    out: dict[str, set[str]] = {}
    for m in re.finditer(r"user\.c:(\d+):\d+: warning: .*\[([a-z-]+)\]$", stdout, re.M):
        line = int(m.group(1))
        for fn, lo, hi in spans:
            if lo <= line <= hi:
                out.setdefault(fn, set()).add(m.group(2))
    return out


def test_followed_callees_decide_findings(tmp_path):
    root = _tree(tmp_path)
    text = (FIXTURES / "follow" / "user.c").read_text()
    args = ("scan", "--tree", str(root), "--cache-dir", str(tmp_path / "cache"), "-q",
            "net/tuser/user.c")
    followed = run_cli(*args)
    assert followed.returncode == 1, followed.stderr
    got = _warned_functions(followed.stdout, text)
    assert got == {"tuser_value": {"ref-leak"}, "tuser_cached_flags": {"ref-leak"},
                   "tuser_sync": {"rcu-sleep-in-reader"}}, followed.stdout
    assert "Traceback" not in followed.stderr
    # nothing in core.c is reported: it was only read for its definitions
    assert not re.search(r"^\S*core\.c:\d+:\d+: ", followed.stdout, re.M)
    alone = run_cli(*args, "--follow", "0")
    assert alone.returncode == 0, alone.stdout
    assert _warned_functions(alone.stdout, text) == {}


def test_only_the_definitions_asked_for_are_lowered(tmp_path):
    from analyzer.build.tree import KernelTree
    from analyzer.driver.phase1 import Job, lower_job
    from analyzer.frontend import clang as clangsetup
    from analyzer.model import ApiModel

    clangsetup.load()
    tree = KernelTree.open(_tree(tmp_path))
    cmd = tree.command_for(tree.root / "lib/tnode/core.c")
    out = lower_job(Job(cmd.file, cmd.args, cmd.file, focus=("tnode_lookup",)),
                    ApiModel.load())
    # the function asked for and the static helper it calls; not the file's others
    assert sorted(f.name for f in out.lowered.functions) == ["tnode_find", "tnode_lookup"]
    whole = lower_job(Job(cmd.file, cmd.args, cmd.file), ApiModel.load())
    assert len(whole.lowered.functions) == 5


def test_the_index_finds_global_definitions_only(tmp_path):
    from analyzer.build.symbols import DefinitionIndex

    root = _tree(tmp_path)
    index = DefinitionIndex.open(root, tmp_path / "cache")
    assert index.files("tnode_release") == ["lib/tnode/core.c"]
    assert index.files("tnode_find") == []      # static: no other file can call it
    assert index.files("tuser_sync") == ["net/tuser/user.c"]
    index.close()


def test_a_followed_body_says_what_it_does_not_what_it_does_not():
    """A body read in another file, its own callees followed only so far, that shows no
    reference going with its result does not silence the caller's own evidence (a
    release of that result on another path); one that shows a reference does."""
    from dataclasses import replace

    from analyzer.engine.beliefs import says_nothing
    from analyzer.model.api import FnModel

    inferred = FnModel("tnode_peek", inferred=True)
    assert not says_nothing(inferred)
    assert says_nothing(replace(inferred, followed=True))
    assert not says_nothing(replace(inferred, followed=True, returns_ref=True))
    assert not says_nothing(replace(inferred, followed=True, same_object=0))
