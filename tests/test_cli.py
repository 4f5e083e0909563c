"""The command line as a user runs it: exit codes and one-sentence errors."""

import json

import pytest

from tests.conftest import run_cli


def assert_clean_error(res, needle):
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert needle in res.stderr


def test_version_and_help():
    res = run_cli("--version")
    assert res.returncode == 0 and "rcucheck, version" in res.stdout
    for cmd in ([], ["scan"]):
        res = run_cli(*cmd, "--help")
        assert res.returncode == 0 and "Usage:" in res.stdout


def test_missing_tree(tmp_path):
    assert_clean_error(run_cli("scan", "--tree", str(tmp_path / "nope"), "mm/a.c"),
                       "does not exist")


def test_no_tree_given(tmp_path):
    res = run_cli("scan", "mm/a.c", env={"RCUCHECK_TREE": ""})
    assert_clean_error(res, "no kernel tree given")


def test_unconfigured_tree(tmp_path):
    (tmp_path / "include" / "linux").mkdir(parents=True)
    (tmp_path / "Makefile").write_text("")
    assert_clean_error(run_cli("scan", "--tree", str(tmp_path), "mm/a.c"),
                       "make olddefconfig && make prepare")


def test_malformed_compile_database(tmp_path):
    (tmp_path / "include" / "generated").mkdir(parents=True)
    (tmp_path / "include" / "linux").mkdir(parents=True)
    (tmp_path / "include" / "generated" / "autoconf.h").write_text("")
    (tmp_path / "Makefile").write_text("")
    (tmp_path / "compile_commands.json").write_text("{not json")
    assert_clean_error(run_cli("scan", "--tree", str(tmp_path)), "is not valid JSON")


def test_libclang_cannot_be_loaded(tmp_path):
    bogus = tmp_path / "libclang.so"
    bogus.write_text("not a library")
    (tmp_path / "include" / "generated").mkdir(parents=True)
    (tmp_path / "include" / "linux").mkdir(parents=True)
    (tmp_path / "include" / "generated" / "autoconf.h").write_text("")
    (tmp_path / "Makefile").write_text("")
    (tmp_path / "x.c").write_text("int x;\n")
    res = run_cli("--libclang", str(bogus), "scan", "--tree", str(tmp_path), "x.c")
    assert_clean_error(res, "cannot load libclang")


@pytest.mark.realtree
def test_scan_real_files(kernel_tree):
    res = run_cli("scan", "--tree", str(kernel_tree), "mm/memcontrol.c", "mm/slub.c",
                  "mm/shrinker.c")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    for rel in ("mm/memcontrol.c", "mm/slub.c", "mm/shrinker.c"):
        line = next(ln for ln in lines if ln.startswith(rel + ":"))
        assert line.endswith(", 0 parse errors")
        assert int(line.split(": ")[1].split()[0]) > 20


@pytest.mark.realtree
def test_broken_file_does_not_stop_the_run(kernel_tree, tmp_path):
    """A file that fails to parse is reported; the others are still analysed."""
    db = json.loads((kernel_tree / "compile_commands.json").read_text())
    entry = next(e for e in db if e["file"].endswith("mm/shrinker.c"))
    broken = dict(entry)
    broken["command"] = entry["command"].replace("-D__KERNEL__", "-D__KERNEL__ -Dstruct=@")
    broken["file"] = entry["file"].replace("shrinker.c", "list_lru.c")
    broken["command"] = broken["command"].replace("mm/shrinker", "mm/list_lru")
    custom = tmp_path / "compile_commands.json"
    custom.write_text(json.dumps([entry, broken]))
    res = run_cli("scan", "--tree", str(kernel_tree), "-p", str(custom), "mm/list_lru.c",
                  "mm/shrinker.c")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "mm/shrinker.c: " in res.stdout and ", 0 parse errors" in res.stdout
    assert "parse error" in res.stderr
