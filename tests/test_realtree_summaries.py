"""Summaries of known mm/ functions, checked against what their code does."""

import functools

import pytest

from analyzer.build.tree import KernelTree
from analyzer.driver.phase1 import Job
from analyzer.driver.session import Session
from analyzer.model import ApiModel

pytestmark = pytest.mark.realtree


@functools.cache
def summaries(root: str) -> dict:
    tree = KernelTree.open(root)
    jobs = [Job.of(tree.command_for(tree.resolve(rel)))
            for rel in ("mm/memcontrol.c", "mm/memcontrol-v1.c", "mm/shrinker.c")]
    prog = Session(ApiModel.load()).run(jobs).program
    return {nid.rsplit(":", 1)[-1]: s for nid, s in prog.summaries.items()}


def test_helpers_that_enter_and_leave_rcu_for_their_caller(kernel_tree):
    s = summaries(str(kernel_tree))
    # folio_memcg_lock() calls rcu_read_lock() first and returns with it held on every
    # path; the unlock side releases it, directly or through __folio_memcg_unlock()
    assert s["folio_memcg_lock"].enters == "rcu"
    assert s["__folio_memcg_unlock"].exits == "rcu"
    assert s["folio_memcg_unlock"].exits == "rcu"
    # set_shrinker_bit() takes and drops its own section: no net effect
    assert s["set_shrinker_bit"].enters is None and s["set_shrinker_bit"].exits is None


def test_reference_returning_functions(kernel_tree):
    s = summaries(str(kernel_tree))
    # css_tryget() loop under RCU, or root_mem_cgroup (CSS_NO_REF), or an active memcg
    # whose reference is taken with css_get()
    assert s["get_mem_cgroup_from_mm"].returns_ref
    assert s["get_mem_cgroup_from_folio"].returns_ref
    # returns the objcg it managed to obj_cgroup_tryget(), walking up the hierarchy
    assert s["__get_obj_cgroup_from_memcg"].returns_ref


def test_rcu_requirements(kernel_tree):
    s = summaries(str(kernel_tree))
    # rcu_dereference(memcg->objcg) with no section of its own
    assert s["__get_obj_cgroup_from_memcg"].requires == "rcu"
    # WARN_ON_ONCE(!rcu_read_lock_held()) states the callers' duty
    assert s["mem_cgroup_from_id"].requires == "rcu"
    assert s["get_mem_cgroup_from_mm"].requires is None


def test_sleeping_functions(kernel_tree):
    s = summaries(str(kernel_tree))
    # alloc_shrinker_info() takes shrinker_mutex; shrinker_free() waits for completion
    assert s["alloc_shrinker_info"].may_sleep
    assert s["shrinker_free"].may_sleep
    assert s["shrinker_free"].sleep_chain[0].startswith("wait_for_completion()")
    # shrink_slab() sleeps through do_shrink_slab() and cond_resched()
    assert s["shrink_slab"].may_sleep
    # the RCU-side helpers do not sleep
    assert not s["set_shrinker_bit"].may_sleep
    assert not s["folio_memcg_lock"].may_sleep
