"""The command line as a user runs it: exit codes and one-sentence errors."""

import json
import re
import subprocess

import pytest

from tests.conftest import CFG_UNIT, RCUCHECK, fixture_tree, run_cli, run_cli_on_terminal


def configured_tree(root):
    """The smallest directory rcucheck accepts as a configured kernel tree."""
    (root / "include" / "generated").mkdir(parents=True)
    (root / "include" / "linux").mkdir(parents=True)
    (root / "include" / "generated" / "autoconf.h").write_text("")
    (root / "Makefile").write_text("")
    (root / "x.c").write_text("int x;\n")
    return root


def assert_clean_error(res, needle):
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert needle in res.stderr


def test_version_and_help():
    res = run_cli("--version")
    assert res.returncode == 0 and "rcucheck, version" in res.stdout
    for cmd in ([], ["scan"], ["rules"], ["explain"], ["cfg"]):
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
    configured_tree(tmp_path)
    (tmp_path / "compile_commands.json").write_text("{not json")
    assert_clean_error(run_cli("scan", "--tree", str(tmp_path)), "is not valid JSON")


def test_libclang_cannot_be_loaded(tmp_path):
    bogus = tmp_path / "libclang.so"
    bogus.write_text("not a library")
    configured_tree(tmp_path)
    res = run_cli("--libclang", str(bogus), "scan", "--tree", str(tmp_path), "x.c")
    assert_clean_error(res, "cannot load libclang")


@pytest.mark.realtree
def test_scan_real_files(kernel_tree):
    res = run_cli("scan", "--stats", "--tree", str(kernel_tree), "mm/memcontrol.c",
                  "mm/slub.c", "mm/shrinker.c")
    assert res.returncode in (0, 1), res.stderr
    lines = res.stderr.splitlines()
    for rel in ("mm/memcontrol.c", "mm/slub.c", "mm/shrinker.c"):
        line = next(ln for ln in lines if ln.startswith(rel + ": ") and "functions" in ln)
        assert line.endswith(", 0 parse errors")
        assert int(line.split(": ")[1].split()[0]) > 20
    for line in res.stdout.splitlines():
        if not line.startswith(" "):
            assert line.startswith("mm/") and line.endswith("]"), line


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
    res = run_cli("scan", "--stats", "--tree", str(kernel_tree), "-p", str(custom),
                  "mm/list_lru.c", "mm/shrinker.c")
    # the other file's findings are reported, and the run does not pass for complete: 3
    assert res.returncode == 3 and "shrinker.c:557" in res.stdout
    assert res.stderr.splitlines()[-1].startswith(
        "rcucheck: 1 file analysed, 1 not analysed; 1 warning, ")
    assert "Traceback" not in res.stderr
    assert "mm/list_lru.c: not analysed" in res.stderr and "parse error" in res.stderr
    shrinker = [ln for ln in res.stderr.splitlines() if ln.startswith("mm/shrinker.c: ")]
    assert shrinker and shrinker[-1].endswith(", 0 parse errors")
    # the count is libclang's, not a constant: the broken unit's is not zero
    broken = re.search(r"^mm/list_lru\.c: not analysed, (\d+) parse errors$", res.stderr, re.M)
    assert broken and int(broken.group(1)) > 0
    # nothing analysed at all: 2
    res = run_cli("scan", "--tree", str(kernel_tree), "-p", str(custom), "mm/list_lru.c")
    assert res.returncode == 2 and "mm/list_lru.c: not analysed" in res.stderr


def test_rules_and_explain():
    res = run_cli("rules")
    assert res.returncode == 0
    ids = [ln.split()[0] for ln in res.stdout.splitlines()]
    assert {"rcu-unbalanced", "rcu-deref-unprotected", "rcu-sleep-in-reader"} <= set(ids)
    res = run_cli("explain", "rcu-sleep-in-reader")
    assert res.returncode == 0
    for heading in ("## What it finds", "## Why is this bad", "## Example", "## Use instead"):
        assert heading in res.stdout
    assert_clean_error(run_cli("explain", "no-such-rule"), "unknown rule no-such-rule")


def test_bad_model_file(tmp_path):
    bad = tmp_path / "m.toml"
    bad.write_text("[fn.x\n")
    configured_tree(tmp_path)
    res = run_cli("scan", "--tree", str(tmp_path), "--model", str(bad), "x.c")
    assert_clean_error(res, "is not valid TOML")


def test_progress_bar_on_a_terminal_only(kernel_tree):
    files = ["mm/shrinker.c", "mm/list_lru.c"]
    # without a store: a run the store already holds whole has no stages to show
    code, out, shown = run_cli_on_terminal("scan", "--no-cache", "--tree", str(kernel_tree),
                                           *files)
    assert code in (0, 1)
    assert "2/2" in shown and "mm/list_lru.c" in shown and "elapsed" in shown
    assert "summaries of" in shown
    assert "analysing" not in out and "shrinker.c:557" in out
    # not a terminal: a log or a pipe sees no bar
    piped = run_cli("scan", "--tree", str(kernel_tree), *files)
    assert "analysing" not in piped.stderr and "analysing" not in piped.stdout
    assert piped.stdout == out
    # -q on a terminal: none either
    code, out_q, shown_q = run_cli_on_terminal("scan", "-q", "--tree", str(kernel_tree), *files)
    assert "analysing" not in shown_q and out_q == out


def test_directories_expand_to_what_kbuild_builds(kernel_tree):
    first = res = run_cli("scan", "--tree", str(kernel_tree), "--derive-flags", "-j2",
                          "kernel/cgroup/", "net/core/of_net.c")
    assert res.returncode in (0, 1), res.stderr
    assert "Traceback" not in res.stderr
    skipped = set(re.findall(r"^(\S+): skipped: not built on its own in this configuration$",
                             res.stderr, re.M))
    # CPUSETS_V1, CGROUP_DEBUG and OF are off in the Debian config the tree is built with
    assert skipped == {"kernel/cgroup/cpuset-v1.c", "kernel/cgroup/debug.c",
                       "net/core/of_net.c"}
    assert "not analysed" not in res.stderr
    res = run_cli("scan", "--tree", str(kernel_tree), "--derive-flags", "kernel/cgroup/debug.c")
    assert res.returncode == 2 and "this configuration builds none of" in res.stderr
    # without --derive-flags too, a directory the compile database does not cover means
    # what kbuild builds there, and the run says so
    again = run_cli("scan", "--tree", str(kernel_tree), "-j2", "kernel/cgroup/")
    assert again.returncode in (0, 1), again.stderr
    assert re.search(r"^rcucheck: kernel/cgroup/: the compile database knows 0 of the \d+ "
                     r"files kbuild builds here; the others are analysed with kbuild's own "
                     r"flags$", again.stderr, re.M)
    assert again.stdout == first.stdout
    # a directory's own flags (fs/xfs/Makefile: ccflags-y += -I fs/xfs/libxfs) are kbuild's,
    # asked with `make -n` for an object never built: the file parses
    xfs = "fs/xfs/xfs_icache.c"
    assert not (kernel_tree / "fs/xfs/.xfs_icache.o.cmd").exists()
    res = run_cli("scan", "--tree", str(kernel_tree), "--derive-flags", "-v", xfs)
    assert res.returncode in (0, 1), res.stderr
    assert "not analysed" not in res.stderr and "parse error" not in res.stderr
    assert "/fs/xfs/libxfs" in res.stderr and 'KBUILD_MODNAME="xfs"' in res.stderr
    # listed by its own Makefile, but no parent descends into it on x86
    res = run_cli("scan", "--tree", str(kernel_tree), "--derive-flags",
                  "drivers/s390/cio/device_fsm.c")
    assert res.returncode == 2 and "this configuration builds none of" in res.stderr


def test_a_file_not_analysed_fails_the_run_and_every_run_says_what_it_checked(tmp_path):
    root = fixture_tree(tmp_path / "linux", {"mm/good.c": CFG_UNIT,
                                              "mm/bad.c": b"\x00\xff garbage {{{ \x8f\n"})
    res = run_cli("scan", "--tree", str(root), "mm/good.c", "mm/bad.c")
    assert res.returncode == 3, res.stderr
    assert "mm/bad.c: not analysed" in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.splitlines()[-1].startswith(
        "rcucheck: 1 file analysed, 1 not analysed; no findings; ")
    # a clean run is not silent: it says what it analysed
    res = run_cli("scan", "--tree", str(root), "mm/good.c")
    assert res.returncode == 0 and res.stdout == ""
    assert res.stderr.splitlines()[-1].startswith("rcucheck: 1 file analysed; no findings; ")


TWO_RULES = """\
#include <linux/rcupdate.h>

struct cfg { int weight; };
struct tbl { struct cfg __rcu *cur; int busy; };

int tbl_busy(struct tbl *t)
{
	rcu_read_lock();
	if (t->busy)
		return 1;
	rcu_read_unlock();
	return 0;
}

static int cfg_weight(struct tbl *t)
{
	struct cfg *c = rcu_dereference(t->cur);

	return c ? c->weight : 0;
}

int tbl_weight(struct tbl *t)
{
	return cfg_weight(t);
}
"""


def rules_of(text: str) -> set[str]:
    return set(re.findall(r"\[([a-z-]+)\]$", text, re.M))


def test_rule_control_configuration_file_and_suppression_warnings(tmp_path):
    root = fixture_tree(tmp_path / "linux", {"mm/two.c": TWO_RULES})
    res = run_cli("scan", "--tree", str(root), "mm/two.c")
    assert rules_of(res.stdout) == {"rcu-unbalanced", "rcu-deref-unprotected"}
    res = run_cli("scan", "--tree", str(root), "--disable", "rcu-unbalanced", "mm/two.c")
    assert rules_of(res.stdout) == {"rcu-deref-unprotected"} and res.returncode == 0
    res = run_cli("scan", "--tree", str(root), "--disable", "rcu-unbalnced", "mm/two.c")
    assert res.returncode == 2
    assert "unknown rule rcu-unbalnced (did you mean rcu-unbalanced?)" in res.stderr
    # the tree's .rcucheck.toml: rules, fail-on, suppressions, relative to the file
    (root / "sup.toml").write_text(
        '[[suppress]]\nfunction = "tbl_busy"\nrule = "rcu-unbalanced"\nreason = "reviewed"\n'
        '[[suppress]]\nfunction = "tbl_busy"\nrule = "ref-lek"\nreason = "typo"\n'
        '[[suppress]]\nfunction = "gone"\nrule = "ref-leak"\nreason = "stale"\n')
    (root / ".rcucheck.toml").write_text('disable = ["rcu-deref-unprotected"]\n'
                                         'suppress = "sup.toml"\nfail-on = "never"\n')
    res = run_cli("scan", "--tree", str(root), "mm/two.c")
    assert res.returncode == 0 and res.stdout == ""
    assert "entry 2: no rule ref-lek (did you mean ref-leak?)" in res.stderr
    assert "entry 3 (ref-leak in gone()) matched no finding of this run" in res.stderr
    assert "1 finding suppressed by" in res.stderr and "1 findings" not in res.stderr
    # the command line wins over the file
    res = run_cli("scan", "--tree", str(root), "--fail-on", "warning", "-r",
                  "rcu-deref-unprotected", "--suppress", str(root / "none.toml"), "mm/two.c")
    assert res.returncode == 2 and "cannot read suppressions" in res.stderr
    (root / ".rcucheck.toml").write_text('disable = ["rcu-unbalanced"]\nrules = ["nope"]\n')
    res = run_cli("scan", "--tree", str(root), "mm/two.c")
    assert res.returncode == 2 and "unknown rule nope in " in res.stderr
    (root / ".rcucheck.toml").write_text('disabel = ["rcu-unbalanced"]\n')
    res = run_cli("scan", "--tree", str(root), "mm/two.c")
    assert res.returncode == 2 and "unknown key disabel (did you mean disable?)" in res.stderr
    other = tmp_path / "other.toml"
    other.write_text('rules = ["rcu-unbalanced"]\n')
    res = run_cli("scan", "--tree", str(root), "--config", str(other), "mm/two.c")
    assert rules_of(res.stdout) == {"rcu-unbalanced"}


def test_global_options_after_the_subcommand_help_everywhere_and_closed_pipes(tmp_path):
    root = fixture_tree(tmp_path / "linux", {"mm/two.c": TWO_RULES})
    res = run_cli("scan", "--tree", str(root), "mm/two.c", "--libclang", "/no/such/lib.so")
    assert res.returncode == 2 and "/no/such/lib.so does not exist" in res.stderr
    for cmd in ("scan", "check-patch", "kbuild", "graph", "cfg", "report", "explain",
                "rules", "cache"):
        res = run_cli(cmd, "--help")
        assert res.returncode == 0 and res.stdout.startswith("Usage: rcucheck"), cmd
    proc = subprocess.run(f"'{RCUCHECK}' explain ref-leak | head -1", shell=True,
                          capture_output=True, text=True)
    assert proc.stdout.startswith("ref-leak") and proc.stderr == ""


def test_the_tree_is_found_from_where_you_stand(tmp_path):
    root = fixture_tree(tmp_path / "linux", {"mm/two.c": TWO_RULES})
    env = {"RCUCHECK_TREE": ""}
    at_root = run_cli("scan", "mm/two.c", cwd=root, env=env)
    assert at_root.returncode == 1, at_root.stderr
    assert rules_of(at_root.stdout) == {"rcu-unbalanced", "rcu-deref-unprotected"}
    # in mm/, a file is named as the shell sees it; findings keep their tree paths
    in_mm = run_cli("scan", "two.c", cwd=root / "mm", env=env)
    assert in_mm.stdout == at_root.stdout
    assert run_cli("scan", "--tree", str(root), "two.c", cwd=root / "mm").stdout == \
        at_root.stdout
    # outside any tree and without --tree: one sentence
    res = run_cli("scan", "mm/two.c", cwd=tmp_path, env=env)
    assert res.returncode == 2 and "none around the current directory" in res.stderr
    # a tree reached through a symbolic link, and a shadow tree of symlinked files
    (tmp_path / "link").symlink_to(root)
    res = run_cli("scan", "--tree", str(tmp_path / "link"), "mm/two.c")
    assert res.stdout == at_root.stdout
    shadow = tmp_path / "shadow"
    subprocess.run(["cp", "-rs", str(root), str(shadow)], check=True)
    (shadow / "compile_commands.json").unlink()
    (shadow / "compile_commands.json").write_text(
        (root / "compile_commands.json").read_text().replace(str(root), str(shadow)))
    assert (shadow / "mm" / "two.c").is_symlink()
    res = run_cli("scan", "--tree", str(shadow), "mm/two.c")
    assert res.returncode == 1, res.stderr
    assert rules_of(res.stdout) == {"rcu-unbalanced", "rcu-deref-unprotected"}
    assert res.stdout.startswith("mm/two.c:")


def _run_processes(marker: str) -> list[int]:
    out = subprocess.run(["ps", "-ww", "-eo", "pid=,args="], capture_output=True,
                         text=True).stdout
    return [int(ln.split()[0]) for ln in out.splitlines() if marker in ln and "ps -ww" not in ln]


@pytest.mark.realtree
@pytest.mark.parametrize("sig", ["TERM", "KILL"])
def test_a_killed_run_leaves_no_worker_behind(kernel_tree, tmp_path, sig):
    import signal
    import time

    marker = str(tmp_path / f"store-{sig}")  # in every process's command line, forks too
    proc = subprocess.Popen([str(RCUCHECK), "scan", "-q", "-j2", "--cache-dir", marker,
                             "--tree", str(kernel_tree), "mm/memcontrol.c", "mm/slub.c"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while len(_run_processes(marker)) < 3 and time.time() < deadline:  # the run + 2 workers
        time.sleep(0.2)
    assert len(_run_processes(marker)) >= 3, "the workers never started"
    proc.send_signal(getattr(signal, f"SIG{sig}"))
    proc.wait(timeout=60)
    if sig == "TERM":
        assert proc.returncode == 128 + signal.SIGTERM
        assert "Traceback" not in proc.stderr.read()
    deadline = time.time() + 10
    while _run_processes(marker) and time.time() < deadline:
        time.sleep(0.2)
    assert _run_processes(marker) == []


def test_an_out_of_tree_build_directory_is_a_tree(tmp_path):
    """`make O=build`: sources in one directory, configuration, generated headers,
    objects and the compile database in the other, which links the sources as `source`."""
    src = fixture_tree(tmp_path / "linux", {"mm/two.c": TWO_RULES})
    out = tmp_path / "build"
    (out / "include").mkdir(parents=True)
    (src / "include" / "generated").rename(out / "include" / "generated")
    (src / "compile_commands.json").unlink()
    (out / "source").symlink_to(src)
    (out / "Makefile").write_text(f"include {src}/Makefile\n")
    db = [{"directory": str(out), "file": str(src / "mm" / "two.c"),
           "arguments": ["gcc", "-nostdinc", f"-I{src}/include", "-I./include", "-std=gnu11",
                         "-D__KERNEL__", "--target=x86_64-linux-gnu", "-c", "-o", "mm/two.o",
                         str(src / "mm" / "two.c")]}]
    (out / "compile_commands.json").write_text(json.dumps(db))
    (out / "mm").mkdir()
    res = run_cli("scan", "--tree", str(out), "mm/two.c")
    assert res.returncode == 1, res.stderr
    assert rules_of(res.stdout) == {"rcu-unbalanced", "rcu-deref-unprotected"}
    assert res.stdout.startswith("mm/two.c:")
    # found from inside the output directory too
    res2 = run_cli("scan", "mm/two.c", cwd=out / "mm", env={"RCUCHECK_TREE": ""})
    assert res2.stdout == res.stdout, res2.stderr


def test_min_confidence_leaves_out_findings_on_weaker_evidence(tmp_path):
    from tests.conftest import FIXTURES, fixture_tree

    names = ("ref_leak_believed.c", "ref_leak.c")
    root = fixture_tree(tmp_path / "linux",
                        {f"mm/{n}": (FIXTURES / n).read_text() for n in names})
    files = [f"mm/{n}" for n in names]
    every = run_cli("scan", "--tree", str(root), "--format", "sarif", *files)
    high = run_cli("scan", "--tree", str(root), "--format", "sarif",
                   "--min-confidence", "high", *files)
    assert every.returncode == 1 and high.returncode == 1, every.stderr + high.stderr

    def confidences(res):
        return sorted(r["properties"]["confidence"]
                      for r in json.loads(res.stdout)["runs"][0]["results"])

    shown = confidences(every)
    # the believed references (a release on another path) are medium, the rest high
    assert "medium" in shown and "high" in shown
    assert confidences(high) == [c for c in shown if c == "high"]
    bad = run_cli("scan", "--tree", str(root), "--min-confidence", "sure", *files)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
