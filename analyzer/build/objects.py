"""Which objects kbuild builds in the tree's configuration, asked of kbuild itself.

For a directory, the top-level Makefile runs `scripts/Makefile.build` on it (as a
build would) with one extra makefile that prints the lists kbuild computed:
`real-obj-y`, `real-obj-m` and `lib-y` (composite objects already resolved to their
parts) and `subdir-ym`.  Nothing of the Makefiles is parsed here, so `obj-$(CONFIG_X)`,
`foo-y := a.o b.o` and `ifdef` blocks mean what they mean to kbuild.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_PRINT = """rcucheck-print:
\t@echo 'OBJ $(real-obj-y) $(real-obj-m) $(lib-y)'
\t@echo 'SUB $(subdir-ym)'
"""


@dataclass
class Directory:
    objects: set[str] = field(default_factory=set)   # tree-relative .o paths
    subdirs: list[str] = field(default_factory=list)


class BuiltObjects:
    """kbuild's view of a configured tree, one `make` per directory, remembered."""

    def __init__(self, root: Path, out: Path | None = None) -> None:
        self.root = root
        self.out = out or root  # where kbuild runs: the tree, or its O= directory
        self.dirs: dict[str, Directory | None] = {}
        self.reach: dict[str, bool | None] = {".": True}

    def directory(self, rel: str) -> Directory | None:
        """What kbuild builds in `rel` (tree-relative); None when kbuild cannot say."""
        rel = rel.strip("/") or "."
        if rel not in self.dirs:
            self.dirs[rel] = self._ask(rel)
        return self.dirs[rel]

    def _ask(self, rel: str) -> Directory | None:
        if not (self.root / rel / "Makefile").is_file() and \
                not (self.root / rel / "Kbuild").is_file():
            return None
        with tempfile.NamedTemporaryFile("w", suffix=".mk", delete=False) as f:
            f.write(_PRINT)
            printer = f.name
        try:
            out = subprocess.run(
                ["make", "-s", "--no-print-directory",
                 f"--eval=rcucheck-objs: ; $(Q)$(MAKE) $(build)={rel} -f {printer} "
                 "rcucheck-print", "rcucheck-objs"],
                cwd=self.out, capture_output=True, text=True, timeout=300,
                env={**os.environ, "MAKEFLAGS": ""})
        except (OSError, subprocess.TimeoutExpired):
            return None
        finally:
            Path(printer).unlink(missing_ok=True)
        if out.returncode != 0:
            return None
        d = Directory()
        for line in out.stdout.splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "OBJ":
                d.objects |= {o for o in rest.split() if o.endswith(".o")}
            elif kind == "SUB":
                d.subdirs += rest.split()
        return d

    def built(self, source: Path) -> bool | None:
        """Does this configuration build `source`'s object? None when kbuild cannot say.

        Built means listed by its directory's Makefile and the directory reached: a
        Makefile asked alone lists drivers/s390/cio/'s objects on x86 too, but no parent
        descends into it.
        """
        rel = source.relative_to(self.root)
        d = self.directory(str(rel.parent))
        if d is None:
            return None
        if str(rel.with_suffix(".o")) not in d.objects:
            return False
        return self.reached(str(rel.parent))

    def reached(self, rel: str) -> bool | None:
        """Does the build descend into directory `rel` (from the top, through subdirs)?"""
        rel = rel.strip("/") or "."
        if rel not in self.reach:
            self.reach[rel] = False
            parts = Path(rel).parts
            for n in range(len(parts) - 1, -1, -1):  # nearest ancestor first
                anc = str(Path(*parts[:n])) if n else "."
                if not self.reached(anc):
                    continue
                d = self.directory(anc)
                if d is None:
                    self.reach[rel] = None
                    break
                if rel in {s.strip("/") for s in d.subdirs}:
                    self.reach[rel] = True
                    break
        return self.reach[rel]

    def sources_under(self, rel: str) -> tuple[list[Path], list[Path]] | None:
        """(.c files built under `rel`, .c files there that are not), recursively."""
        d = self.directory(rel)
        if d is None:
            return None
        built: list[Path] = []
        for o in sorted(d.objects):
            c = self.root / Path(o).with_suffix(".c")
            if c.is_file():
                built.append(c)
        for sub in d.subdirs:
            got = self.sources_under(sub)
            if got is not None:
                built += got[0]
        base = self.root / rel
        known = set(built)
        subs = [self.root / s for s in d.subdirs]
        skipped = sorted(c for c in base.rglob("*.c") if c not in known and
                         (c.parent == base or any(c.is_relative_to(s) for s in subs)))
        return built, skipped
