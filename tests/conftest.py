"""Shared test helpers: fixture parsing and the real kernel tree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "kernel_fixtures"
# The console script installed next to this interpreter (a venv's bin/, or the system's).
RCUCHECK = Path(sys.executable).parent / "rcucheck"
FIXTURE_ARGS = ["-nostdinc", f"-I{FIXTURES / 'include'}", "-std=gnu11",
                "--target=x86_64-linux-gnu", "-D__KERNEL__"]


def _find_tree() -> Path | None:
    env = os.environ.get("RCUCHECK_TREE")
    if env:
        return Path(env)
    cache = Path(os.environ.get("RCUCHECK_CACHE")
                 or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rcucheck")
    tree = cache / "linux-source-6.12"
    return tree if (tree / ".rcucheck-ready").is_file() else None


@pytest.fixture(scope="session")
def kernel_tree() -> Path:
    """The provisioned 6.12 tree; skipped on a laptop without one, a failure under CI."""
    tree = _find_tree()
    if tree is None or not (tree / "include" / "generated" / "autoconf.h").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but no provisioned kernel tree: run scripts/get-kernel "
                        "or set RCUCHECK_TREE")
        pytest.skip("no kernel tree (run scripts/get-kernel or set RCUCHECK_TREE)")
    return tree


def run_cli(*args: str, env: dict | None = None, stdin: str | None = None,
            cwd: Path | None = None):
    """Run the installed `rcucheck` in a subprocess, as a user would."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [str(RCUCHECK), *args], capture_output=True, text=True, env=full_env, input=stdin,
        timeout=900, cwd=cwd,
    )


def run_cli_on_terminal(*args: str) -> tuple[int, str, str]:
    """Run `rcucheck` with stderr on a pseudo-terminal (as in a person's shell) and
    stdout on a pipe; returns (exit code, stdout, what the terminal showed)."""
    import pty
    import select

    master, slave = pty.openpty()
    proc = subprocess.Popen([str(RCUCHECK), *args], stdout=subprocess.PIPE, stderr=slave,
                            stdin=subprocess.DEVNULL)
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    out = proc.stdout.read().decode()
    proc.wait(timeout=900)
    os.close(master)
    return proc.returncode, out, shown.decode(errors="replace")


# a clean unit: a reader of an RCU-protected config, section and all
CFG_UNIT = """\
#include <linux/rcupdate.h>

struct cfg { int weight; };
struct tbl { struct cfg __rcu *cur; };

int cfg_weight(struct tbl *t)
{
	struct cfg *c;
	int w = 0;

	rcu_read_lock();
	c = rcu_dereference(t->cur);
	if (c)
		w = c->weight;
	rcu_read_unlock();
	return w;
}
"""


def fixture_tree(root: Path, files: dict[str, str | bytes], extra: tuple = ()) -> Path:
    """A tiny configured tree of the project's stand-in headers and `files`, with a
    compile database naming each .c file (kernel C without kbuild)."""
    import json
    import shutil

    shutil.copytree(FIXTURES / "include", root / "include")
    (root / "include" / "generated").mkdir()
    (root / "include" / "generated" / "autoconf.h").write_text("#define CONFIG_MMU 1\n")
    (root / "Makefile").write_text("# a tiny tree\nKERNELVERSION = 6.12.0\n")
    db = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
        if rel.endswith(".c"):
            obj = rel[:-2] + ".o"
            db.append({"directory": str(root), "file": rel,
                       "arguments": ["gcc", "-nostdinc", "-I./include", "-std=gnu11",
                                     "-D__KERNEL__", "--target=x86_64-linux-gnu", *extra,
                                     "-c", "-o", obj, rel]})
    (root / "compile_commands.json").write_text(json.dumps(db))
    return root
