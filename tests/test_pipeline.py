"""Phase 1 at scale: worker processes, the TU cache, crash isolation."""

import time

from tests.conftest import FIXTURES, fixture_tree, run_cli


def tiny_tree(root, files: dict[str, str]):
    return fixture_tree(root, files, ("-fbracket-depth=10000",))


def test_cache_serves_unchanged_units_and_sees_header_edits(tmp_path):
    root = tiny_tree(tmp_path / "t", {
        "mm/a.c": (FIXTURES / "rcu_unbalanced.c").read_text(),
        "mm/b.c": (FIXTURES / "ref_leak.c").read_text()})
    env = {"RCUCHECK_CACHE": str(tmp_path / "cache")}
    first = run_cli("scan", "--stats", "--tree", str(root), env=env)
    assert first.returncode == 1 and "from the cache" not in first.stderr
    second = run_cli("scan", "--stats", "--tree", str(root), env=env)
    assert second.stdout == first.stdout
    assert second.stderr.count("from the cache") == 2
    # a header both files include changes: neither may come from the cache
    hdr = root / "include" / "linux" / "types.h"
    time.sleep(0.01)
    hdr.write_text(hdr.read_text() + "\n/* edited */\n")
    third = run_cli("scan", "--stats", "--tree", str(root), env=env)
    assert "from the cache" not in third.stderr and third.stdout == first.stdout
    uncached = run_cli("scan", "--stats", "--no-cache", "--tree", str(root), env=env)
    assert "from the cache" not in uncached.stderr


def test_parallel_runs_match_serial(tmp_path):
    names = ["rcu_unbalanced", "ref_leak", "interproc", "rcu_sleep_in_reader"]
    root = tiny_tree(tmp_path / "t", {f"mm/{n}.c": (FIXTURES / f"{n}.c").read_text()
                                      for n in names})
    serial = run_cli("scan", "--no-cache", "-j", "1", "--tree", str(root))
    parallel = run_cli("scan", "--no-cache", "-j", "3", "--tree", str(root))
    assert serial.stdout == parallel.stdout and serial.stdout.count("[") > 20


def test_a_unit_that_crashes_libclang_is_skipped(tmp_path):
    deep = "int deep(int x)\n{\n\treturn " + "(" * 5000 + "x" + ")" * 5000 + ";\n}\n"
    root = tiny_tree(tmp_path / "t", {
        "mm/deep.c": deep,
        "mm/ok.c": (FIXTURES / "rcu_unbalanced.c").read_text()})
    res = run_cli("scan", "--no-cache", "--tree", str(root))
    assert res.returncode == 3  # a unit not analysed: the others' findings, and not clean
    assert "mm/deep.c: not analysed: libclang crashed" in res.stderr
    assert "Traceback" not in res.stderr
    assert "mm/ok.c:" in res.stdout and "[rcu-unbalanced]" in res.stdout


def test_a_header_inline_is_one_node_and_every_unit_carries_it(tmp_path):
    """Each unit lowers the header inlines it reaches itself (so that which unit lowered
    one first cannot change a run, and a stored unit stands alone); the program has one
    node for it."""
    from analyzer.driver.phase1 import Job
    from analyzer.driver.store import Store
    from tests.conftest import FIXTURE_ARGS
    from tests.fixture_check import session

    # both fixtures call parent_mem_cgroup(), a static inline of the stand-in memcontrol.h
    a, b = FIXTURES / "ref_unchecked_tryget.c", FIXTURES / "ref_leak.c"
    s = session()
    s.store_path = tmp_path / "store.sqlite"

    def job(p):
        return Job(str(p), tuple(FIXTURE_ARGS), str(p))

    def header_nodes(res):
        return [n for n in res.program.nodes if n.endswith(":parent_mem_cgroup")]

    both = s.run([job(a), job(b)])
    assert len(header_nodes(both)) == 1
    store = Store(s.store_path, s.model, s._libclang_version())
    owned = {str(p): [k[2] for k in store.unit(job(p)).owned] for p in (a, b)}
    store.close()
    assert owned[str(a)].count("parent_mem_cgroup") == owned[str(b)].count(
        "parent_mem_cgroup") == 1
    alone = s.run([job(b)])
    assert len(header_nodes(alone)) == 1
    assert alone.findings == s.run([job(b)]).findings != []
