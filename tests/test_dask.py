"""Distributed runs: the map and check tasks on a Dask LocalCluster give the same
findings, byte for byte, as forked local workers."""

import pytest

from analyzer.driver.phase1 import Job
from analyzer.report.text import format_finding
from tests.conftest import FIXTURE_ARGS, FIXTURES, run_cli
from tests.fixture_check import session

pytest.importorskip("distributed", reason="the cluster extra is part of the test extra")

FILES = ["rcu_unbalanced.c", "ref_leak.c", "rcu_sleep_in_reader.c", "multi/provider.c",
         "multi/consumer.c", "ref_unchecked_tryget.c"]


def _run(tmp_path, executor, workers):
    s = session()
    s.executor, s.workers = executor, workers
    s.store_path = tmp_path / f"{executor}{workers}.sqlite"
    res = s.run([Job(str(FIXTURES / f), tuple(FIXTURE_ARGS), str(FIXTURES / f))
                 for f in FILES])
    assert not res.failed, [u.why_not for u in res.failed]
    return [(format_finding(f, str), f.fingerprint) for f in res.findings]


def test_a_local_cluster_finds_what_one_local_worker_finds(tmp_path):
    one = _run(tmp_path, "local", 1)
    assert one
    assert _run(tmp_path, "dask", 2) == one


@pytest.mark.realtree
def test_scan_on_dask_from_the_command_line(kernel_tree, tmp_path):
    args = ["scan", "-q", "--no-cache", "--tree", str(kernel_tree), "mm/shrinker.c",
            "mm/list_lru.c"]
    local = run_cli(*args)
    dask = run_cli(*args, "--executor", "dask", "-j", "2")
    assert local.returncode == dask.returncode == 1
    assert dask.stdout == local.stdout and "mm/shrinker.c:" in local.stdout
