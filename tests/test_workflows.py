"""Pre-submit and kbuild workflows, end to end."""

import difflib
import json
import os
import re
import shutil
import subprocess

import pytest

from tests.conftest import CFG_UNIT, FIXTURES, RCUCHECK, run_cli

FINDING = re.compile(r"^(\S+):(\d+):(\d+): (warning|note): .* \[([a-z-]+)\]$")


def findings(text: str) -> set[tuple[str, int, str]]:
    out = set()
    for line in text.splitlines():
        m = FINDING.match(line)
        if m:
            out.add((m.group(1), int(m.group(2)), m.group(5)))
    return out


def make_patch(rel: str, old: str, new: str) -> str:
    diff = "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                        f"a/{rel}", f"b/{rel}"))
    return ("From 1234 Mon Sep 17 00:00:00 2001\nFrom: Dev <dev@example.org>\n"
            f"Subject: [PATCH] change {rel}\n\n---\ndiff --git a/{rel} b/{rel}\n{diff}-- \n2.39\n")


# --- a small git-managed tree built from the fixtures -----------------------------------

# the clean helper, now static, and a caller that calls it after its own section
HELPER_OLD = CFG_UNIT.replace("int cfg_weight(", "static int cfg_weight(") + """
int tbl_report(struct tbl *t)
{
	int w;

	rcu_read_lock();
	rcu_read_unlock();
	w = cfg_weight(t);
	return w;
}
"""


@pytest.fixture
def git_tree(tmp_path):
    root = tmp_path / "linux"
    shutil.copytree(FIXTURES / "include", root / "include")
    (root / "include" / "generated").mkdir()
    (root / "include" / "generated" / "autoconf.h").write_text("#define CONFIG_MMU 1\n")
    (root / "Makefile").write_text("# a tiny tree\n")
    (root / "mm").mkdir()
    (root / "mm" / "cfg.c").write_text(HELPER_OLD)
    db = [{"directory": str(root), "file": "mm/cfg.c",
           "arguments": ["gcc", "-nostdinc", "-I./include", "-std=gnu11", "-D__KERNEL__",
                         "--target=x86_64-linux-gnu", "-c", "-o", "mm/cfg.o", "mm/cfg.c"]}]
    (root / "compile_commands.json").write_text(json.dumps(db))
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}

    def git(*args):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                       env=env)

    git("init", "-q")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    return root, git


def test_git_range_reports_a_caller_outside_the_changed_lines(git_tree):
    root, git = git_tree
    # the helper stops taking RCU itself: its unchanged caller now calls it unprotected
    new = HELPER_OLD.replace("\trcu_read_lock();\n\tc = rcu_dereference", "\tc = rcu_dereference")
    new = new.replace("\t\tw = c->weight;\n\trcu_read_unlock();\n", "\t\tw = c->weight;\n")
    (root / "mm" / "cfg.c").write_text(new)
    git("commit", "-q", "-am", "cfg_weight: rely on the caller's RCU")
    res = run_cli("check-patch", "--tree", str(root), "--git", "HEAD~1..HEAD")
    assert res.returncode == 1, res.stderr
    caller_line = new.splitlines().index("\tw = cfg_weight(t);") + 1
    assert findings(res.stdout) == {("mm/cfg.c", caller_line, "rcu-deref-unprotected")}
    res = run_cli("check-patch", "--tree", str(root), "--git", "HEAD..HEAD")
    assert res.returncode == 0 and res.stdout == ""


def test_patch_on_stdin_and_bad_input(git_tree):
    root, _ = git_tree
    old = (root / "mm" / "cfg.c").read_text()
    bad = old.replace("\trcu_read_unlock();\n\treturn w;\n}\n\nint", "\treturn w;\n}\n\nint")
    res = run_cli("check-patch", "--tree", str(root), "-", stdin=make_patch("mm/cfg.c", old,
                                                                                  bad))
    assert res.returncode == 1
    assert {r for _, _, r in findings(res.stdout)} == {"rcu-unbalanced"}
    assert (root / "mm" / "cfg.c").read_text() == old  # the tree is untouched
    res = run_cli("check-patch", "--tree", str(root), "-", stdin="not a patch at all\n")
    assert res.returncode == 2 and "no unified diff" in res.stderr
    res = run_cli("check-patch", "--tree", str(root), "--git", "nope..HEAD")
    assert res.returncode == 2 and "Traceback" not in res.stderr


def new_file_patch(name: str, body: str = "int pwned;\n", mode: str = "100644") -> str:
    """A git patch creating `name`, spelled exactly as given (a hostile patch's paths)."""
    lines = body.splitlines(True)
    hunk = "".join("+" + ln for ln in lines)
    return (f"diff --git a/{name} b/{name}\nnew file mode {mode}\nindex 0000000..1111111\n"
            f"--- /dev/null\n+++ b/{name}\n@@ -0,0 +1,{len(lines)} @@\n{hunk}")


@pytest.mark.parametrize("shape", ["dotdot", "absolute", "symlink-dir", "makes-symlink",
                                   "rename-out"])
def test_hostile_patch_writes_nothing_outside_the_tree(git_tree, tmp_path, shape):
    root, _ = git_tree
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "pwned.c"
    if shape == "dotdot":
        up = "/".join([".."] * len(root.relative_to("/").parts))
        patch = new_file_patch(f"{up}{target}")
    elif shape == "absolute":
        patch = (f"--- /dev/null\n+++ {target}\n@@ -0,0 +1 @@\n+int pwned;\n")
    elif shape == "symlink-dir":
        (root / "mm" / "out").symlink_to(outside)
        patch = new_file_patch("mm/out/pwned.c")
    elif shape == "makes-symlink":
        patch = new_file_patch("mm/link.c", str(target) + "\n", mode="120000")
    else:
        old = (root / "mm" / "cfg.c").read_text()
        patch = ("diff --git a/mm/cfg.c b/../../pwned.c\nsimilarity index 90%\n"
                 "rename from mm/cfg.c\nrename to ../../pwned.c\n"
                 + make_patch("mm/cfg.c", old, old + "int x;\n").split("---\n", 1)[1]
                 .split("\n", 1)[1].replace("+++ b/mm/cfg.c", "+++ b/../../pwned.c"))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    res = run_cli("check-patch", "--tree", str(root), "-", stdin=patch)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not target.exists() and not (tmp_path / "pwned.c").exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_binary_and_huge_hunks_are_harmless(git_tree):
    root, _ = git_tree
    binary = ("diff --git a/img.png b/img.png\nnew file mode 100644\nindex 0000000..3333333\n"
              "Binary files /dev/null and b/img.png differ\n")
    huge = new_file_patch("Documentation/huge.txt", "a line of text\n" * 200_000)
    res = run_cli("check-patch", "--tree", str(root), "-", stdin=binary + huge)
    assert res.returncode == 0, res.stderr
    assert not (root / "img.png").exists() and not (root / "Documentation").exists()


def mail(n: int, total: int, subject: str, rel: str, old: str, new: str,
         sha: str = "1234567890abcdef1234567890abcdef12345678") -> str:
    body = make_patch(rel, old, new).split("\n\n", 1)[1]
    return (f"From {sha} Mon Sep 17 00:00:00 2001\nFrom: Dev <dev@example.org>\n"
            f"Subject: [PATCH {n}/{total}] {subject}\n\n{body}")


def test_a_series_names_the_patch_of_each_finding(git_tree, tmp_path):
    root, _ = git_tree
    v0 = (root / "mm" / "cfg.c").read_text()
    v1 = v0.replace("\t\tw = c->weight;\n", "\t\tw = c->weight; /* the weight */\n")
    v2 = v1.replace("\trcu_read_unlock();\n\treturn w;\n}\n\nint",
                    "\treturn w;\n}\n\nint")
    assert v0 != v1 != v2
    first = mail(1, 2, "cfg: say what w is", "mm/cfg.c", v0, v1)
    second = mail(2, 2, "cfg: return early", "mm/cfg.c", v1, v2)
    # one mbox of the series; the second patch applies only on top of the first
    res = run_cli("check-patch", "--tree", str(root), "-", stdin=first + second)
    assert res.returncode == 1, res.stderr
    assert {r for _, _, r in findings(res.stdout)} == {"rcu-unbalanced"}
    assert "note: introduced by [PATCH 2/2] cfg: return early" in res.stdout
    assert "[PATCH 1/2]" not in res.stdout
    assert "rcucheck: 2 patches checked; 1 warning" in res.stderr
    # the same as two files, as `series/*.patch` passes them
    (tmp_path / "0001.patch").write_text(first)
    (tmp_path / "0002.patch").write_text(second)
    res2 = run_cli("check-patch", "--tree", str(root), str(tmp_path / "0001.patch"),
                   str(tmp_path / "0002.patch"))
    assert res2.returncode == 1 and res2.stdout == res.stdout
    # out of order the second does not apply: it says which
    res = run_cli("check-patch", "--tree", str(root), str(tmp_path / "0002.patch"))
    assert res.returncode == 2 and "[PATCH 2/2] cfg: return early: hunk 1" in res.stderr
    # SARIF, as code review takes it
    out = tmp_path / "series.sarif"
    res = run_cli("check-patch", "--tree", str(root), "--format", "sarif", "-o", str(out),
                  str(tmp_path / "0001.patch"), str(tmp_path / "0002.patch"))
    log = json.loads(out.read_text())
    assert res.returncode == 1 and log["version"] == "2.1.0"
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["rcu-unbalanced"]


def test_crlf_and_latin1_mails_apply_as_git_applies_them(git_tree):
    root, _ = git_tree
    old = (root / "mm" / "cfg.c").read_text()
    new = old.replace("\trcu_read_unlock();\n\treturn w;\n}\n\nint",
                      "\t/* fr\u00e9d\u00e9ric: early */\n\treturn w;\n}\n\nint")
    text = mail(1, 1, "cfg: return early", "mm/cfg.c", old, new)
    latin1 = text.replace("Subject:", "Content-Type: text/plain; charset=ISO-8859-1\n"
                                      "Subject:").encode("latin-1")
    for data in (text.replace("\n", "\r\n").encode(), latin1):
        res = subprocess.run([str(RCUCHECK), "check-patch", "--tree", str(root), "-"],
                             input=data, capture_output=True)
        assert res.returncode == 1, res.stderr.decode()
        assert b"[rcu-unbalanced]" in res.stdout and b"not in the tree" not in res.stderr


def test_nothing_checked_is_never_an_all_clear(git_tree):
    root, _ = git_tree
    # a header no unit includes
    res = run_cli("check-patch", "--tree", str(root), "-",
                  stdin=new_file_patch("mm/lonely.h", "int lonely;\n"))
    assert res.returncode == 3, res.stderr
    assert "mm/lonely.h: not checked: no unit of the compile database includes it" in res.stderr
    assert "1 changed files not checked" in res.stderr
    # a header the unit includes is checked there, and says so
    header = "include/linux/rcupdate.h"
    old = (root / header).read_text()
    res = run_cli("check-patch", "--tree", str(root), "-",
                  stdin=make_patch(header, old, old + "/* a comment */\n"))
    assert res.returncode == 0, res.stderr
    assert f"{header}: checking the 1 unit that include it (mm/cfg.c)" in res.stderr


# --- the real tree ---------------------------------------------------------------------------

SHRINK_SLAB_PUT = "\t\trcu_read_lock();\n\t\tshrinker_put(shrinker);\n\t}\n"


@pytest.mark.realtree
def test_check_patch_on_real_tree(kernel_tree, tmp_path):
    src = (kernel_tree / "mm" / "shrinker.c").read_text()
    bug = src.replace(SHRINK_SLAB_PUT, "\t\tshrinker_put(shrinker);\n\t\trcu_read_lock();\n\t}\n")
    patch = tmp_path / "0001-bug.patch"
    patch.write_text(make_patch("mm/shrinker.c", src, bug))
    res = run_cli("check-patch", "--tree", str(kernel_tree), str(patch))
    assert res.returncode == 1, res.stderr
    (found,) = findings(res.stdout)
    assert found[0] == "mm/shrinker.c" and found[2] == "ref-put-outside-rcu"

    harmless = src.replace("even though kmem is disabled", "even when kmem is disabled")
    patch.write_text(make_patch("mm/shrinker.c", src, harmless))
    res = run_cli("check-patch", "--tree", str(kernel_tree), str(patch))
    assert res.returncode == 0 and res.stdout == ""
    assert res.stderr.startswith("rcucheck: 1 patch checked; no new findings; ")
    assert len(res.stderr.splitlines()) == 1

    stale = make_patch("mm/shrinker.c", src, harmless).replace(
        "-\t\t\t/* Call non-slab shrinkers even though", "-\t\t\t/* Call no shrinkers though")
    patch.write_text(stale)
    res = run_cli("check-patch", "--tree", str(kernel_tree), str(patch))
    assert res.returncode == 2
    assert "hunk 1 of mm/shrinker.c" in res.stderr and "does not apply" in res.stderr


NEW_FILE = """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/rcupdate.h>

struct uau_cfg { int weight; };
struct uau_tbl { struct uau_cfg __rcu *cur; };

int uau_weight(struct uau_tbl *t)
{
	struct uau_cfg *c;

	rcu_read_lock();
	c = rcu_dereference(t->cur);
	rcu_read_unlock();
	return c ? c->weight : 0;
}
"""


@pytest.mark.realtree
def test_check_patch_sees_files_the_database_does_not_know(kernel_tree, tmp_path):
    # a new file, and a file kbuild builds that the provisioned database does not list
    res = run_cli("check-patch", "--tree", str(kernel_tree), "-",
                  stdin=new_file_patch("mm/uau_example.c", NEW_FILE))
    assert res.returncode == 1, res.stderr
    assert {(f, r) for f, _, r in findings(res.stdout)} == \
        {("mm/uau_example.c", "rcu-use-after-unlock")}
    dcache = (kernel_tree / "fs" / "dcache.c").read_text()
    unlock = "\t\trcu_read_unlock();\n\t\treturn;\n\t}\n\twhile (lock_for_kill(dentry)) {"
    assert dcache.count(unlock) == 1  # dput()'s fast path
    bug = dcache.replace(unlock, unlock.replace("\t\trcu_read_unlock();\n", ""))
    res = run_cli("check-patch", "--tree", str(kernel_tree), "-",
                  stdin=make_patch("fs/dcache.c", dcache, bug))
    assert res.returncode == 1, res.stderr
    assert ("fs/dcache.c", "rcu-unbalanced") in {(f, r) for f, _, r in findings(res.stdout)}


@pytest.mark.realtree
def test_kbuild_check_matches_scan(kernel_tree, tmp_path):
    frags = tmp_path / "sarif"
    check = f"{RCUCHECK} kbuild --sarif-dir {frags}"
    res = subprocess.run(["make", "-s", "C=2", f"CHECK={check}", "mm/shrinker.o"],
                         cwd=kernel_tree, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "error" not in res.stderr.lower()
    scan = run_cli("scan", "--tree", str(kernel_tree), "mm/shrinker.c")
    assert findings(res.stderr) == findings(scan.stdout) != set()
    merged = tmp_path / "all.sarif"
    out = run_cli("report", str(frags), "-o", str(merged))
    assert out.returncode == 0, out.stderr
    results = json.loads(merged.read_text())["runs"][0]["results"]
    got = {(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"], r["ruleId"])
           for r in results}
    assert got == findings(scan.stdout)
    # the same fragments as one HTML page: every finding, on its source
    page = run_cli("report", str(frags), "--html")
    assert page.returncode == 0, page.stderr
    assert page.stdout.startswith("<!DOCTYPE html>")
    assert page.stdout.count('<section class="finding') == len(got)
    assert "shrinker_try_get(shrinker)" in page.stdout


def test_kbuild_argument_filtering_and_exit_codes(tmp_path):
    """kbuild's CHECKFLAGS and gcc flags are accepted; findings exit 0 unless --werror."""
    work = tmp_path / "t"
    shutil.copytree(FIXTURES / "include", work / "include")
    shutil.copy(FIXTURES / "rcu_unbalanced.c", work / "x.c")
    args = ["-D__linux__", "-Dlinux", "-D__STDC__", "-Wbitwise", "-Wno-return-void",
            "--arch=x86", "-mlittle-endian", "-m64", "-Wp,-MMD,./.x.o.d", "-nostdinc",
            "-I./include", "-std=gnu11", "-D__KERNEL__", "x.c"]
    res = subprocess.run([str(RCUCHECK), "kbuild", *args], cwd=work, capture_output=True,
                         text=True)
    assert res.returncode == 0 and findings(res.stderr)
    assert not (work / ".x.o.d").exists()  # the dep-file flag never reached libclang
    res = subprocess.run([str(RCUCHECK), "kbuild", "--werror", *args], cwd=work,
                         capture_output=True, text=True)
    assert res.returncode == 1
    (work / "y.c").write_text("int f(void) { return undeclared; }\n")
    res = subprocess.run([str(RCUCHECK), "kbuild", *args[:-1], "y.c"], cwd=work,
                         capture_output=True, text=True)
    assert res.returncode == 0 and "error" not in res.stderr.lower()
    assert "skipped" in res.stderr
