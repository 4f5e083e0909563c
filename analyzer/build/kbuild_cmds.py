"""kbuild's own compile command for objects never built, asked with `make -n`.

A file's flags are not the same everywhere: directories add include paths and
defines (`ccflags-y`, `subdir-ccflags-y`, `CFLAGS_foo.o`), which the generic x86_64
set misses (fs/xfs/ needs `-I fs/xfs/libxfs`, drm drivers their private headers).
`make -n obj.o` has kbuild print the exact command it would run, building nothing;
one call answers for many objects at once.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path


def ask(root: Path, sources: list[Path], timeout: float = 600,
        out: Path | None = None) -> dict[Path, tuple[str, ...]]:
    """source -> kbuild's compile command for it, for those kbuild would compile (asked
    where kbuild builds: the tree, or its O= directory `out`; paths are relative to it)."""
    if not sources:
        return {}
    targets = {str(s.relative_to(root).with_suffix(".o")): s for s in sources}
    try:
        res = subprocess.run(["make", "-n", "-k", *targets], cwd=out or root, capture_output=True,
                             text=True, timeout=timeout, env={**os.environ, "MAKEFLAGS": ""})
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[Path, tuple[str, ...]] = {}
    for line in res.stdout.splitlines():
        if " -c -o " not in line:
            continue
        for m in re.finditer(r" -c -o (\S+) (\S+\.c)(?=\s*(;|$))", line):
            src = targets.get(m.group(1))
            if src is None or src in found or not m.group(2).endswith(m.group(1)[:-2] + ".c"):
                continue
            start = line.rfind("; ", 0, m.start())
            segment = line[start + 2 if start >= 0 else 0:m.end()]
            try:
                argv = shlex.split(segment)
            except ValueError:
                continue
            # kbuild's kernel compile, not make's built-in %.o: %.c rule of a tree
            # that has no kbuild
            if argv and re.search(r"(^|/|-)(gcc|cc|clang)(-\d+)?$", argv[0]) \
                    and "-D__KERNEL__" in argv:
                found[src] = tuple(argv)
    return found
