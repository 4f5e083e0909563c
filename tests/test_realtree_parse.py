"""The real 6.12 tree: the target files parse cleanly with kbuild's own flags."""

import pytest

from analyzer.build.tree import KernelTree
from analyzer.frontend.parse import parse_command

EXPECTED = {
    "mm/memcontrol.c": {"mem_cgroup_iter", "get_mem_cgroup_from_mm", "mem_cgroup_css_offline"},
    "mm/slub.c": {"__slab_free", "kmem_cache_free", "kfree"},
    "mm/shrinker.c": {"shrink_slab_memcg", "shrink_slab", "shrinker_free", "set_shrinker_bit"},
    "mm/memcontrol-v1.c": {"mem_cgroup_move_account", "memcg1_soft_limit_reclaim"},
    "mm/list_lru.c": {"list_lru_add", "memcg_reparent_list_lrus"},
}

pytestmark = pytest.mark.realtree


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_target_file_parses_with_zero_errors(kernel_tree, rel):
    tree = KernelTree.open(kernel_tree)
    parsed = parse_command(tree.command_for(tree.resolve(rel)))
    assert parsed.errors == []
    names = {f.name for f in parsed.functions}
    assert EXPECTED[rel] <= names
    assert len(parsed.macros) > 50


def test_macro_index_on_real_file(kernel_tree):
    tree = KernelTree.open(kernel_tree)
    parsed = parse_command(tree.command_for(tree.resolve("mm/shrinker.c")))
    derefs = parsed.macros.by_name("rcu_dereference")
    assert derefs, "shrinker.c uses rcu_dereference"
    assert all(u.arguments() for u in derefs)
    walks = parsed.macros.by_name("list_for_each_entry_rcu")
    assert walks and walks[0].arguments()[0] == "shrinker"


def test_files_outside_the_database_with_derived_flags(kernel_tree):
    """--derive-flags: a file never built parses as kbuild would compile it."""
    from tests.conftest import run_cli

    res = run_cli("scan", "--tree", str(kernel_tree), "kernel/cgroup/cgroup.c")
    assert res.returncode == 2 and "--derive-flags" in res.stderr
    res = run_cli("scan", "--stats", "--no-cache", "--derive-flags", "--tree", str(kernel_tree),
                  "kernel/cgroup/cgroup.c", "fs/dcache.c")
    assert res.returncode in (0, 1), res.stderr
    for rel in ("kernel/cgroup/cgroup.c", "fs/dcache.c"):
        line = next(ln for ln in res.stderr.splitlines() if ln.startswith(rel + ": "))
        assert line.endswith(", 0 parse errors") and int(line.split(": ")[1].split()[0]) > 100
