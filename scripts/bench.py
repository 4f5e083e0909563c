#!/usr/bin/env python3
"""Benchmark rcucheck per translation unit against clang -fsyntax-only and sparse.

Run through `scripts/bench`, which provides the venv, the tree and sparse.  Each tool
runs as its own process on the same file with the same flags (kbuild's), the tools
alternating within each round; the median of --repeat rounds is reported (wall and
CPU time, peak RSS), with rcucheck's own split from `--stats` (parse, lowering,
summaries, checks, the rest: start-up and report) and ratios.  `--whole-mm` adds every
.c under mm/ that the configuration builds, cold and cached at -j2, and `check-patch`
on a one-file patch.  `--presubmit` measures what issue 23 targets, each as a ratio to
clang's parse of mm/memcontrol.c: a cold scan at -j1 and -j2, a warm one, check-patch of
a one-function change with the store warm, check-patch of a header change, and the
generated 35k-line function (wall time and peak memory).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analyzer.build.flags import translate  # noqa: E402
from analyzer.build.tree import KernelTree  # noqa: E402

SPARSE_FLAGS = ["-D__linux__", "-Dlinux", "-D__STDC__", "-Dunix", "-D__unix__", "-Wbitwise",
                "-Wno-return-void", "-Wno-unknown-attribute", "-D__x86_64__", "--arch=x86",
                "-mlittle-endian", "-m64"]
STATS = re.compile(r"parsed in ([\d.]+) s, lowered in ([\d.]+) s, checked in ([\d.]+) s")
SUMMARY = re.compile(r"summarised in ([\d.]+) s")


@dataclass
class Run:
    wall: float
    cpu: float
    rss: float  # MiB
    code: int
    stderr: str = ""


def once(argv: list[str], cwd: Path, env: dict | None = None) -> Run:
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err,
                                env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err.seek(0)
        text = err.read()
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
               os.waitstatus_to_exitcode(status), text)


def median(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]


def rounds(tools: dict[str, tuple[list[str], dict | None]], cwd: Path, repeat: int):
    """Every tool once per round, in turn, so that machine noise hits them alike."""
    got: dict[str, list[Run]] = {name: [] for name in tools}
    for _ in range(repeat):
        for name, (argv, env) in tools.items():
            got[name].append(once(argv, cwd, env))
    return {name: median(runs) for name, runs in got.items()}


def split(run: Run) -> tuple[float, float, float, float]:
    """parse, lowering, summaries, checks — from `--stats`."""
    m, s = STATS.search(run.stderr), SUMMARY.search(run.stderr)
    if not m:
        return (0.0, 0.0, 0.0, 0.0)
    return float(m[1]), float(m[2]), float(s[1]) if s else 0.0, float(m[3])


def sparse_argv(sparse: str, cmd) -> list[str]:
    args = [a for a in cmd.argv[1:] if a != "-c" and not a.startswith("-Wp,")]
    if "-o" in args:
        i = args.index("-o")
        del args[i:i + 2]
    return [sparse, *SPARSE_FLAGS, *args]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clang", default=shutil.which("clang-19") or shutil.which("clang"))
    ap.add_argument("--sparse", default=shutil.which("sparse"))
    ap.add_argument("--rcucheck", default=shutil.which("rcucheck"))
    ap.add_argument("--whole-mm", action="store_true")
    ap.add_argument("--presubmit", action="store_true",
                    help="only the pre-submit configurations (issue 23), as ratios to clang")
    ap.add_argument("files", nargs="*", default=["mm/memcontrol.c", "mm/slub.c", "mm/shrinker.c"])
    args = ap.parse_args()
    if not args.rcucheck:
        print("bench: no rcucheck to run (scripts/bench sets up the venv)", file=sys.stderr)
        return 2
    if not args.sparse:
        print("bench: sparse is not installed: its columns stay empty", file=sys.stderr)
    if not args.clang:
        print("bench: clang is not installed (Debian: clang-19): its columns stay empty",
              file=sys.stderr)
    tree = KernelTree.open(args.tree)
    tree.derive = True
    root = tree.root
    if args.presubmit:
        return presubmit(args, tree)
    print(f"{'file':20} {'cold s':>7} {'cpu s':>6} {'MiB':>5} {'cached':>7} {'parse':>6} "
          f"{'lower':>6} {'summ':>6} {'check':>6} {'rest':>6} {'clang s':>8} {'cpu':>5} "
          f"{'ratio':>6} {'sparse s':>9} {'ratio':>6}")
    for rel in args.files:
        src = tree.resolve(rel)
        cmd = tree.command_for(src)
        flags = translate(list(cmd.argv), cmd.directory, cmd.file).args
        scan = [args.rcucheck, "scan", "-q", "--tree", str(root), "--derive-flags",
                "--fail-on", "never", "--stats", rel]
        with tempfile.TemporaryDirectory() as cache:
            env = {"RCUCHECK_CACHE": cache}
            tools: dict[str, tuple[list[str], dict | None]] = {
                "cold": ([*scan, "--no-cache"], None)}
            if args.clang:
                tools["clang"] = ([args.clang, "-fsyntax-only", *flags, str(src)], None)
            if args.sparse:
                tools["sparse"] = (sparse_argv(args.sparse, cmd), None)
            once(scan, root, env)  # fill the cache
            tools["cached"] = (scan, env)
            got = rounds(tools, root, args.repeat)
        cold = got["cold"]
        parse, lower, summ, check = split(cold)
        rest = cold.wall - parse - lower - summ - check
        line = (f"{rel:20} {cold.wall:7.2f} {cold.cpu:6.2f} {cold.rss:5.0f} "
                f"{got['cached'].wall:7.2f} {parse:6.2f} {lower:6.2f} {summ:6.2f} {check:6.2f} "
                f"{rest:6.2f}")
        if "clang" in got:
            c = got["clang"]
            line += f" {c.wall:8.2f} {c.cpu:5.2f} {cold.wall / c.wall:6.2f}"
        else:
            line += f" {'-':>8} {'-':>5} {'-':>6}"
        if "sparse" in got:
            s = got["sparse"]
            line += f" {s.wall:9.2f} {cold.wall / s.wall:6.2f}"
        else:
            line += f" {'-':>9} {'-':>6}"
        print(line, flush=True)
    if args.whole_mm:
        whole(args, root)
    return 0


def whole(args, root: Path) -> None:
    """All of mm/ that the configuration builds at -j2, cold and cached; check-patch."""
    scan = [args.rcucheck, "scan", "-q", "--tree", str(root), "--derive-flags", "-j2",
            "--fail-on", "never", "mm/"]
    with tempfile.TemporaryDirectory() as cache:
        env = {"RCUCHECK_CACHE": cache}
        cold = once(scan, root, env)
        cached = once(scan, root, env)
    n = len(re.findall(r"^mm/\S+: skipped", cold.stderr, re.M))
    print(f"\nwhole mm/ at -j2 ({n} files not built skipped): cold {cold.wall:.1f} s "
          f"(cpu {cold.cpu:.1f} s, {cold.rss:.0f} MiB), cached {cached.wall:.1f} s")
    patch = ("--- a/mm/shrinker.c\n+++ b/mm/shrinker.c\n@@ -1,3 +1,4 @@\n"
             + "".join(" " + ln + "\n" for ln in (root / "mm/shrinker.c").read_text()
                       .splitlines()[:1])
             + "+/* a comment */\n"
             + "".join(" " + ln + "\n" for ln in (root / "mm/shrinker.c").read_text()
                       .splitlines()[1:3]))
    with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False) as f:
        f.write(patch)
    try:
        r = once([args.rcucheck, "check-patch", "-q", "--tree", str(root), f.name], root)
    finally:
        Path(f.name).unlink()
    print(f"check-patch on a one-file patch (mm/shrinker.c): {r.wall:.1f} s, exit {r.code}")


# a comment inside __mem_cgroup_uncharge_swap(): one function's text changes
ONE_FUNCTION = ("\tid = swap_cgroup_record(entry, 0, nr_pages);\n\trcu_read_lock();\n",
                "\tid = swap_cgroup_record(entry, 0, nr_pages);\n\t/* its memcg */\n"
                "\trcu_read_lock();\n")
HEADER = ("include/linux/shrinker.h", "struct shrinker {\n",
          "/* what a shrinker is */\nstruct shrinker {\n")


def _patch(root: Path, rel: str, old: str, new: str) -> str:
    """A unified diff of one change, made by diff(1) as a developer's tools would."""
    text = (root / rel).read_text()
    assert text.count(old) == 1, f"{rel}: the benchmark's edit anchor is not unique"
    with tempfile.TemporaryDirectory() as tmp:
        a, b = Path(tmp) / "a" / rel, Path(tmp) / "b" / rel
        a.parent.mkdir(parents=True)
        b.parent.mkdir(parents=True)
        a.write_text(text)
        b.write_text(text.replace(old, new))
        res = subprocess.run(["diff", "-u", f"a/{rel}", f"b/{rel}"], cwd=tmp,
                             capture_output=True, text=True)
    return res.stdout


def presubmit(args, tree) -> int:
    """The configurations issue 23 sets targets for, as ratios to clang's parse."""
    root = tree.root
    rel = "mm/memcontrol.c"
    src = tree.resolve(rel)
    cmd = tree.command_for(src)
    flags = translate(list(cmd.argv), cmd.directory, cmd.file).args
    if not args.clang:
        print("bench: --presubmit needs clang", file=sys.stderr)
        return 2
    clang = median([once([args.clang, "-fsyntax-only", *flags, str(src)], root)
                    for _ in range(args.repeat)])
    rows: list[tuple[str, Run, str]] = []
    scan = [args.rcucheck, "scan", "-q", "--tree", str(root), "--fail-on", "never", rel]
    with tempfile.TemporaryDirectory() as cache:
        env = {"RCUCHECK_CACHE": cache}
        rows.append(("cold scan -j1", median([once([*scan, "--no-cache", "-j1"], root)
                                               for _ in range(args.repeat)]), "<= 2x"))
        rows.append(("cold scan -j2", median([once([*scan, "--no-cache", "-j2"], root)
                                               for _ in range(args.repeat)]), "<= 1.3x"))
        once(scan, root, env)
        rows.append(("warm scan", median([once(scan, root, env)
                                          for _ in range(args.repeat)]), ""))
        for name, (prel, old, new), target in (
                ("check-patch, one function", (rel, *ONE_FUNCTION), "<= 0.5x"),
                ("check-patch, a header", HEADER, "")):
            with tempfile.NamedTemporaryFile("w", suffix=".patch", delete=False) as f:
                f.write(_patch(root, prel, old, new))
            check = [args.rcucheck, "check-patch", "-q", "--tree", str(root), "--fail-on",
                     "never", f.name]
            try:
                # the first check of a changed file builds its stored preamble; the
                # ones after (a developer's next edits) parse against it
                first = once(check, root, env)
                runs = [once(check, root, env) for _ in range(args.repeat)]
            finally:
                Path(f.name).unlink()
            rows.append((f"{name} (first)", first, ""))
            rows.append((name, median(runs), target))
    print(f"clang-19 -fsyntax-only {rel}: {clang.wall:.2f} s (median of {args.repeat})")
    print(f"{'configuration':36} {'wall s':>7} {'MiB':>6} {'x clang':>8} {'target':>8}")
    for name, run, target in rows:
        print(f"{name:36} {run.wall:7.2f} {run.rss:6.0f} {run.wall / clang.wall:8.2f} "
              f"{target:>8}")
    big = _pathological(args)
    print(f"{'generated 35k-line function':36} {big.wall:7.2f} {big.rss:6.0f} {'':>8} "
          f"{'<= 10 s, 600 MiB':>17}")
    return 0


def _pathological(args) -> Run:
    """The generated function of 5,000 read-side sections (35k lines) in a tiny tree of
    the project's stand-in headers, scanned as a user would."""
    sys.path.insert(0, str(ROOT))
    from tests.conftest import fixture_tree
    from tests.test_budget import many_sections

    with tempfile.TemporaryDirectory() as tmp:
        root = fixture_tree(Path(tmp) / "linux", {"mm/many.c": many_sections(5000)})
        return once([args.rcucheck, "scan", "-q", "--no-cache", "--fail-on", "never",
                     "--tree", str(root), "mm/many.c"], root)


if __name__ == "__main__":
    sys.exit(main())
