"""rcucheck's precision on code nobody tuned it on: warnings on a random sample of the tree.

The sample is N `.c` files drawn with a seed from the whole tree, among those that
kbuild builds in the tree's configuration (asked of kbuild, parents included) and that
use RCU or reference counts: a read-side lock, an RCU accessor or callback, `refcount_t`,
`kref`, or a get/put pair of one name (`foo_get()`/`foo_hold()` with `foo_put()`).  A
uniform sample of all files is mostly drivers that touch neither and says little.  The
files are scanned as a user scans them (`rcucheck scan --derive-flags`); the script
prints warnings per 20k lines, per rule and per directory, and writes the findings with
an empty verdict column for triage: real, defensible (breaks the documented rule; sparse
or lockdep would say so too), or false with its cause.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from analyzer.build.objects import BuiltObjects

# directories that hold no kernel code built for x86_64
SKIP_TOP = ("Documentation/", "tools/", "scripts/", "samples/", "usr/", "LICENSES/")
USES = re.compile(r"\b(rcu_read_lock\w*|srcu_read_lock|rcu_dereference\w*|rcu_assign_pointer|"
                  r"RCU_INIT_POINTER|call_rcu|kfree_rcu|kvfree_rcu|synchronize_rcu\w*|"
                  r"list_for_each_entry_rcu|hlist_for_each_entry_rcu|refcount_t|"
                  r"refcount_inc\w*|struct kref|kref_get\w*|kref_put\w*)\b")
GET = re.compile(r"\b(\w+?)_(?:get|hold)\s*\(")
PUT = re.compile(r"\b(\w+?)_put\s*\(")


def uses_refs_or_rcu(text: str) -> bool:
    if USES.search(text):
        return True
    return bool({m.group(1) for m in GET.finditer(text)} &
                {m.group(1) for m in PUT.finditer(text)})


def candidates(root: Path) -> list[str]:
    """Every .c file of the tree that could be built for x86_64, tree-relative, sorted.

    Hidden directories (kbuild's `.tmp_*`, which come and go while a build runs in the
    tree) are not walked, and one that vanishes during the walk is skipped."""
    out = []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if not name.endswith(".c"):
                continue
            rel = Path(top, name).relative_to(root).as_posix()
            if rel.startswith(SKIP_TOP) or (rel.startswith("arch/") and
                                             not rel.startswith("arch/x86/")):
                continue
            out.append(rel)
    return sorted(out)


def draw(root: Path, n: int, seed: str) -> list[str]:
    """N files in the seed's order that use RCU or references and that kbuild builds."""
    pool = candidates(root)
    random.Random(seed).shuffle(pool)
    objects = BuiltObjects(root)
    picked: list[str] = []
    for rel in pool:
        try:
            text = (root / rel).read_text(errors="replace")
        except OSError:
            continue
        if not uses_refs_or_rcu(text):
            continue
        if objects.built(root / rel) is not True:
            continue
        picked.append(rel)
        if len(picked) == n:
            break
    return picked


def scan(rcucheck: str, tree: Path, files: list[str], jobs: int,
         sarif: Path, off: list[str] = ()) -> tuple[dict, list[str]]:
    """The SARIF log of a user's scan of `files`, and the files it could not analyse."""
    res = subprocess.run([rcucheck, "scan", "--tree", str(tree), "--derive-flags", "-q",
                          f"-j{jobs}", "--fail-on", "error", "--format", "sarif",
                          *(f"--disable-exception={x}" for x in off),
                          "-o", str(sarif), *files], capture_output=True, text=True)
    if res.returncode == 2 and not sarif.exists():
        raise SystemExit(f"precision: rcucheck scan failed: {res.stderr.strip()}")
    failed = sorted({f for f in files
                     if re.search(rf"^{re.escape(f)}: (?!note:)", res.stderr, re.M)})
    return json.loads(sarif.read_text()), failed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", required=True, help="configured kernel tree")
    ap.add_argument("--sample", type=int, default=40, help="how many files (default 40)")
    ap.add_argument("--seed", required=True, help="any string; a new one for each measurement")
    ap.add_argument("--out", help="where the findings go (default bench/precision/SEED)")
    ap.add_argument("--rcucheck", default=str(Path(sys.executable).parent / "rcucheck"))
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--disable-exception", action="append", default=[], metavar="ID",
                    help="turn off a registered exception (repeatable; 'all'): what it "
                         "removes shows as warnings")
    args = ap.parse_args(argv)
    tree = Path(args.tree).resolve()
    if not (tree / "Makefile").is_file() or not (tree / ".config").is_file():
        print(f"precision: {tree} is not a configured kernel tree", file=sys.stderr)
        return 2
    out = Path(args.out or Path(__file__).resolve().parent.parent / "bench" / "precision" /
               args.seed)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    files = draw(tree, args.sample, args.seed)
    (out / "sample.txt").write_text("".join(f + "\n" for f in files))
    log, failed = scan(args.rcucheck, tree, files, args.jobs, out / "findings.sarif",
                       args.disable_exception)
    analysed = [f for f in files if f not in failed]
    lines = sum((tree / f).read_text(errors="replace").count("\n") for f in analysed)
    rows = []
    for r in log["runs"][0]["results"]:
        if r.get("level") == "note" or r.get("suppressions"):
            continue
        loc = r["locations"][0]["physicalLocation"]
        props = r.get("properties", {})
        rows.append((loc["artifactLocation"]["uri"], loc["region"]["startLine"], r["ruleId"],
                     props.get("function", ""), r["message"]["text"],
                     ", ".join(props.get("exceptionOff", ()))))
    rows.sort()
    per20k = 20000 * len(rows) / lines if lines else 0.0
    print(f"seed {args.seed}: {len(files)} files sampled, {len(analysed)} analysed "
          f"({lines} lines), {len(failed)} not analysed; {len(rows)} warnings, "
          f"{per20k:.2f} per 20k lines; {time.perf_counter() - t0:.0f} s")
    for f in failed:
        print(f"  not analysed: {f}")
    print("per rule: " + (", ".join(f"{k} {v}" for k, v in
                                    sorted(Counter(r[2] for r in rows).items())) or "none"))
    print("per directory: " + (", ".join(
        f"{k} {v}" for k, v in sorted(Counter(str(Path(r[0]).parent) for r in rows).items()))
        or "none"))
    if args.disable_exception:
        # each warning an exception would have removed names it (SARIF `exceptionOff`)
        waived = Counter(x for r in rows for x in r[5].split(", ") if x)
        print("per exception turned off (the warnings it removes): " + (", ".join(
            f"{k} {v}" for k, v in sorted(waived.items())) or "none") +
            f"; not attributed {sum(1 for r in rows if not r[5])}")
    extra = " exception off |" if args.disable_exception else ""
    table = [f"| # | where | rule | function | message |{extra} verdict | cause |",
             "|---|---|---|---|---|" + ("---|" if extra else "") + "---|---|"]
    for i, (f, line, rule, fn, msg, off) in enumerate(rows, 1):
        msg = msg.replace("|", "\\|")
        cell = f" {off} |" if extra else ""
        table.append(f"| {i} | {f}:{line} | {rule} | {fn} | {msg} |{cell} | |")
    (out / "findings.md").write_text(
        f"# Precision sample, seed {args.seed}\n\n{len(analysed)} files analysed, {lines} "
        f"lines, {len(rows)} warnings ({per20k:.2f} per 20k lines).\n"
        "Verdicts: real, defensible (breaks the documented rule), false (with its cause).\n\n"
        + "\n".join(table) + "\n")
    print(f"findings for triage: {out / 'findings.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
