"""Stored preambles: the include block found, parsed once, and a parse against it that
lowers to exactly what a whole parse lowers to."""

from __future__ import annotations

import os

import pytest

from analyzer.driver.phase1 import Job, lower_job
from analyzer.frontend.preamble import Preambles, blanked, block_length, without_includes
from analyzer.model import ApiModel

SOURCE = b"""// SPDX-License-Identifier: GPL-2.0
/*
 * A unit's licence and description,
 * over several lines.
 */

#include <linux/slab.h>
#include "local.h"	/* its own */
#include <linux/rcupdate.h>

#define LOCAL_LIMIT 4
#include <linux/late.h>

static int f(void) { return LOCAL_LIMIT; }
"""


def test_the_block_ends_with_the_last_include_before_anything_else():
    n = block_length(SOURCE)
    assert SOURCE[:n].endswith(b"#include <linux/rcupdate.h>\n")
    # a definition ends the block: what follows may depend on it
    assert b"LOCAL_LIMIT" not in SOURCE[:n]
    assert block_length(b"#if X\n#include <a.h>\n#endif\n") == 0
    assert block_length(b"int x;\n#include <a.h>\n") == 0
    assert block_length(b"/* one */ /* two */\n#include <a.h>\nint x;\n") == \
        len(b"/* one */ /* two */\n#include <a.h>\n")


def test_blanking_keeps_every_line_column_and_offset():
    n = block_length(SOURCE)
    out = blanked(SOURCE, n)
    assert len(out) == len(SOURCE)
    assert out.count(b"\n") == SOURCE.count(b"\n")
    assert out[n:] == SOURCE[n:] and not out[:n].strip()


def test_the_preamble_carries_the_forced_includes():
    args = ["-D__KERNEL__", "-include", "a.h", "-I/x", "-includeb.h", "-include-pch", "p"]
    assert without_includes(args) == ["-D__KERNEL__", "-I/x"]


@pytest.mark.realtree
def test_a_parse_against_the_preamble_lowers_as_a_whole_parse(kernel_tree, tmp_path):
    from analyzer.build.tree import KernelTree

    tree = KernelTree.open(str(kernel_tree), None)
    cmd = tree.command_for(kernel_tree / "mm" / "shrinker.c")
    model = ApiModel.load()
    plain = lower_job(Job.of(cmd), model).lowered
    job = Job(cmd.file, cmd.args, cmd.file, tuple(cmd.args))
    built = lower_job(job, model, preambles=str(tmp_path)).lowered
    (pch,) = tmp_path.glob("*.pch")
    again = lower_job(job, model, preambles=str(tmp_path)).lowered
    for low in (built, again):
        assert low.problems == plain.problems and low.parse_errors == 0
        assert low.functions == plain.functions
        assert low.headers == plain.headers
        # the store's dependencies: every header the whole parse read
        assert set(plain.includes) <= set(low.includes)
    assert list(tmp_path.glob("*.pch")) == [pch]

    # a preamble clang refuses (here: damaged) is dropped, and the file parsed whole
    pch.write_bytes(b"not a precompiled header")
    fallback = lower_job(Job(cmd.file, cmd.args, cmd.file, tuple(cmd.args)), model,
                         preambles=str(tmp_path)).lowered
    assert fallback.functions == plain.functions and fallback.parse_errors == 0


def test_preambles_are_bounded_least_recently_used_first_out(tmp_path):
    store = Preambles(tmp_path, limit=2)
    for i, key in enumerate(["a", "b", "c"]):
        for suffix in (".pch", ".json", ".h"):
            (tmp_path / f"{key}{suffix}").write_text("{}")
        os.utime(tmp_path / f"{key}.json", (1000 + i, 1000 + i))
    store._evict()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "b.h", "b.json", "b.pch", "c.h", "c.json", "c.pch"]


def test_a_file_scanned_again_after_a_change_is_parsed_against_its_preamble(tmp_path):
    from tests.conftest import fixture_tree, run_cli
    from tests.test_workflows import NEW_FILE

    root = fixture_tree(tmp_path / "linux", {"mm/p.c": NEW_FILE})
    env = {"RCUCHECK_CACHE": str(tmp_path / "cache")}
    scan = ("scan", "--tree", str(root), "--fail-on", "never", "mm/p.c")
    first = run_cli(*scan, env=env)
    assert first.returncode == 0 and "rcu-use-after-unlock" in first.stdout
    # analysed once, unchanged: no preamble; changed since: one is built and used
    assert not list((tmp_path / "cache" / "preambles").glob("*.pch"))
    (root / "mm" / "p.c").write_text(NEW_FILE.replace("c->weight", "c->weight + 1"))
    second = run_cli(*scan, env=env)
    assert list((tmp_path / "cache" / "preambles").glob("*.pch"))
    whole = run_cli(*scan, "--no-cache", env=env)
    assert second.stdout == whole.stdout and "rcu-use-after-unlock" in second.stdout
