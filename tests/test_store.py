"""The persistent store: data only, validity by content, corruption survived, reuse that
gives the same findings, and a run that sees the rest of the tree through it."""

import shutil
import sqlite3

import pytest

from analyzer.driver.phase1 import Job
from analyzer.driver.store import Store
from analyzer.report.text import format_finding
from tests.conftest import FIXTURE_ARGS, FIXTURES
from tests.fixture_check import session

MULTI = FIXTURES / "multi"


def _job(path):
    return Job(str(path), tuple(FIXTURE_ARGS), str(path))


def _text(findings):
    return [(format_finding(f, str), f.fingerprint) for f in findings]


@pytest.fixture
def tree(tmp_path):
    """A copy of the two-file fixture: its files can change."""
    root = tmp_path / "tree"
    root.mkdir()
    for name in ("provider.c", "consumer.c", "cfg.h"):
        shutil.copy(MULTI / name, root / name)
    return root


def _session(store, tree=None, consult=False):
    s = session()
    s.store_path = store
    s.tree = str(tree) if tree else None
    s.consult = consult
    return s


def test_a_warm_run_reuses_everything_and_finds_the_same(tree, tmp_path):
    s = _session(tmp_path / "s.sqlite")
    jobs = [_job(tree / "provider.c"), _job(tree / "consumer.c")]
    cold = s.run(jobs)
    assert cold.reused == {"units": 0, "summaries": 0, "checks": 0, "runs": 0}
    warm = s.run(jobs)
    assert warm.reused["units"] == 2 and warm.reused["runs"] == 1
    assert warm.program.summary_runs == 0  # no function was run again
    assert _text(warm.findings) == _text(cold.findings) != []
    assert all(u.outcome.meta.cached for u in warm.units)
    # one unit alone is another program: its summaries and check come from the store
    alone = s.run(jobs[1:])
    assert alone.reused["runs"] == 0 and alone.reused["units"] == 1
    assert alone.reused["summaries"] > 0 and alone.program.summary_runs < 5
    again = s.run(jobs[1:])
    assert again.reused["runs"] == 1 and _text(again.findings) == _text(alone.findings)


def test_the_store_holds_no_pickle(tree, tmp_path):
    path = tmp_path / "s.sqlite"
    _session(path).run([_job(tree / "consumer.c")])
    db = sqlite3.connect(path)
    blobs = [b for table in ("unit", "body", "summary", "checked")
             for (b,) in db.execute(f"SELECT data FROM {table}")]
    assert blobs and not any(b.startswith(b"\x80") for b in blobs)  # pickle's first byte
    import json
    import zlib
    assert all(isinstance(json.loads(zlib.decompress(b)), (dict, list)) for b in blobs)


def test_a_header_that_changes_content_invalidates_one_that_is_touched_does_not(tree, tmp_path):
    s = _session(tmp_path / "s.sqlite")
    job = _job(tree / "consumer.c")
    s.run([job])
    store = Store(s.store_path, s.model, s._libclang_version())
    header = tree / "cfg.h"
    header.touch()  # a new mtime, the same content: still valid
    assert store.unit(job) is not None
    header.write_text(header.read_text() + "\nstruct cfg_extra { int x; };\n")
    assert store.unit(job) is None
    store.close()


def test_a_corrupted_entry_is_rebuilt_with_a_notice(tree, tmp_path, capsys):
    s = _session(tmp_path / "s.sqlite")
    jobs = [_job(tree / "consumer.c"), _job(tree / "provider.c")]
    first = s.run(jobs)
    db = sqlite3.connect(s.store_path)
    db.execute("UPDATE unit SET data = x'00ff00ff'")
    db.execute("UPDATE checked SET data = x'1234'")
    db.commit()
    db.close()
    again = s.run(jobs)
    assert "unreadable" in capsys.readouterr().err
    assert again.reused["units"] == 0
    assert _text(again.findings) == _text(first.findings)


def test_a_file_that_is_not_a_store_is_replaced(tree, tmp_path, capsys):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"\x00garbage, not SQLite" * 100)
    res = _session(path).run([_job(tree / "consumer.c")])
    assert "not a store of this rcucheck" in capsys.readouterr().err
    assert not res.failed
    assert sqlite3.connect(path).execute("SELECT count(*) FROM unit").fetchone()[0] == 1


def test_a_file_alone_sees_the_tree_through_its_latest_analysis(tree, tmp_path):
    store = tmp_path / "s.sqlite"
    whole = _session(store, tree).run([_job(tree / "provider.c"), _job(tree / "consumer.c")])
    expected = sorted(_text(f for f in whole.findings if f.loc.file.endswith("consumer.c")))
    assert expected
    alone = _session(store, tree, consult=True).run([_job(tree / "consumer.c")])
    assert sorted(_text(alone.findings)) == expected
    blind = _session(tmp_path / "other.sqlite", tree, consult=True).run(
        [_job(tree / "consumer.c")])
    # nothing known of provider.c's helpers: only what consumer.c's own code shows (it
    # releases memcg_grab()'s result on one path) is reported
    assert [(f.rule, f.function) for f in blind.findings] == [("ref-leak", "consumer_grab")]


def test_a_changed_helper_is_reported_at_its_callers_in_other_files(tree, tmp_path):
    store = tmp_path / "s.sqlite"
    _session(store, tree).run([_job(tree / "provider.c"), _job(tree / "consumer.c")])
    provider = tree / "provider.c"
    # tbl_enter() stops taking rcu_read_lock(): consumer_pair() now dereferences outside
    text = provider.read_text()
    provider.write_text(text.replace("void tbl_enter(struct tbl *t)\n{\n\trcu_read_lock();",
                                     "void tbl_enter(struct tbl *t)\n{\n"))
    assert provider.read_text() != text
    res = _session(store, tree, consult=True).run([_job(provider)])
    where = {(f.function, f.rule) for f in res.elsewhere}
    assert ("consumer_pair", "rcu-deref-unprotected") in where
    assert all(f.loc.file.endswith("consumer.c") for f in res.elsewhere)


def test_cache_stats_and_clear_from_the_command_line(tree, tmp_path):
    from tests.conftest import run_cli

    cache = tmp_path / "cache"
    res = run_cli("cache", "stats", "--cache-dir", str(cache))
    assert res.returncode == 0 and "no store yet" in res.stdout
    _session(cache / "rcucheck.sqlite", tree).run([_job(tree / "consumer.c")])
    res = run_cli("cache", "stats", "--cache-dir", str(cache))
    assert res.returncode == 0
    counts = dict(line.split() for line in res.stdout.splitlines()[1:])
    assert counts["unit"] == "1" and int(counts["body"]) >= 4 and counts["latest"] == "1"
    res = run_cli("cache", "clear", "--cache-dir", str(cache))
    assert res.returncode == 0 and "removed" in res.stdout
    assert not (cache / "rcucheck.sqlite").exists()


def test_cache_stats_of_a_file_that_is_not_a_store_is_one_sentence(tmp_path):
    from tests.conftest import run_cli

    (tmp_path / "rcucheck.sqlite").write_bytes(b"\xff" * 4096)
    res = run_cli("cache", "stats", "--cache-dir", str(tmp_path))
    assert res.returncode == 2
    assert res.stderr.startswith("rcucheck: ") and len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr


def test_check_patch_with_summaries_reports_a_caller_in_another_file(tmp_path):
    """A whole-tree run leaves its summaries in the store; a patch to one file is then
    checked against the callers elsewhere."""
    from tests.conftest import run_cli
    from tests.test_pipeline import tiny_tree
    from tests.test_workflows import make_patch

    files = {f"mm/{n}": (MULTI / n).read_text() for n in ("provider.c", "consumer.c", "cfg.h")}
    root = tiny_tree(tmp_path / "t", files)
    env = {"RCUCHECK_CACHE": str(tmp_path / "cache")}
    whole = run_cli("scan", "-q", "--tree", str(root), env=env)
    assert whole.returncode == 1 and "mm/consumer.c:" in whole.stdout
    old = files["mm/provider.c"]
    new = old.replace("void tbl_enter(struct tbl *t)\n{\n\trcu_read_lock();",
                      "void tbl_enter(struct tbl *t)\n{\n")
    patch = make_patch("mm/provider.c", old, new)
    seen = run_cli("check-patch", "--summaries", "--tree", str(root), "-", stdin=patch,
                   env=env)
    assert seen.returncode == 1, seen.stderr
    assert "mm/consumer.c:" in seen.stdout and "[rcu-deref-unprotected]" in seen.stdout
    blind = run_cli("check-patch", "--tree", str(root), "-", stdin=patch, env=env)
    assert "mm/consumer.c:" not in blind.stdout


def test_evidence_from_another_function_follows_its_changes(tmp_path):
    """A callee's result released by the file's other callers is a reference in another
    caller; when that evidence goes, the warm run follows, as a cold run does."""
    root = tmp_path / "tree"
    root.mkdir()
    text = (FIXTURES / "ref_leak_believed_elsewhere.c").read_text()
    path = root / "tdev.c"
    path.write_text(text)
    jobs = [_job(path)]
    store = tmp_path / "s.sqlite"
    first = _session(store).run(jobs)
    assert [(f.rule, f.function) for f in first.findings] == [("ref-leak", "tdev_busy")]
    assert "is released by tdev_put() in tdev_poke()" in first.findings[0].message
    again = _session(store).run(jobs)
    assert _text(again.findings) == _text(first.findings)
    # tdev_usage() and tdev_poke() stop releasing what tdev_find() returns
    path.write_text(text.replace("\ttdev_put(d);\n\treturn n;", "\treturn n;")
                    .replace("\t\ttdev_put(d);\n\t}", "\t}"))
    assert path.read_text() != text
    warm = _session(store).run(jobs)
    cold = _session(tmp_path / "cold.sqlite").run(jobs)
    assert _text(warm.findings) == _text(cold.findings) == []
