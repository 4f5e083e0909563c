"""The real 6.12 tree: the target files parse cleanly with kbuild's own flags."""

import pytest

from analyzer.frontend import parse_command
from analyzer.tree import KernelTree

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
