"""Whole directories through rcucheck: cold (an empty store) and warm (the same store,
nothing changed), per executor; prints a Markdown table.

    scripts/scale --configs j1,j2,dask1,dask2 mm kernel
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RCUCHECK = Path(sys.executable).with_name("rcucheck")
CONFIGS = {"j1": ["-j", "1"], "j2": ["-j", "2"],
           "dask1": ["--executor", "dask", "-j", "1"], "dask2": ["--executor", "dask", "-j", "2"]}


def run(tree: str, dirs: list[str], store: Path, extra: list[str]) -> tuple[float, str, str]:
    cmd = [str(RCUCHECK), "scan", "-q", "--stats", "--derive-flags", "--tree", tree,
           "--cache-dir", str(store), *extra, *dirs]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if res.returncode not in (0, 1):
        sys.exit(f"scale: {' '.join(cmd)} failed: {res.stderr.strip()[-500:]}")
    return wall, res.stderr, res.stdout


def stat(pattern: str, text: str) -> str:
    m = re.search(pattern, text)
    return m.group(1) if m else "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tree", required=True)
    ap.add_argument("--configs", default="j1,j2,dask1,dask2")
    ap.add_argument("dirs", nargs="+")
    args = ap.parse_args()
    print("| dirs | executor | files | functions | cold s | warm s | warm/cold | "
          "re-run in warm reduce | reduce peak MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    outputs: dict[str, str] = {}
    for name in args.configs.split(","):
        with tempfile.TemporaryDirectory(prefix="rcucheck-scale-") as tmp:
            cold, err, out = run(args.tree, args.dirs, Path(tmp), CONFIGS[name])
            warm, werr, wout = run(args.tree, args.dirs, Path(tmp), CONFIGS[name])
        outputs[name] = out
        if wout != out:
            print(f"scale: {name}: the warm run's findings differ from the cold run's",
                  file=sys.stderr)
        files = stat(r"(\d+) files, ", err)
        fns = stat(r"not analysed, (\d+) functions", err)
        again = stat(r"(\d+) functions run again", werr)
        peak = stat(r"peak memory here \(reduce\) (\d+) MB", err)
        print(f"| {' '.join(args.dirs)} | {name} | {files} | {fns} | {cold:.1f} | {warm:.1f} | "
              f"{warm / cold:.3f} | {again} | {peak} |", flush=True)
    first = next(iter(outputs.values()))
    same = all(o == first for o in outputs.values())
    n = sum(1 for line in first.splitlines() if line and not line[0].isspace())
    print(f"\n{n} findings, {'identical' if same else 'DIFFERENT'} across {', '.join(outputs)}")


if __name__ == "__main__":
    main()
