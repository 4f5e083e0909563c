"""The per-TU cache of phase 1's output.

An entry is keyed by rcucheck's code, the model, the file and its libclang
flags, and is valid while the file and every header it included are unchanged
(size and mtime, plus the main file's content).
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path

from analyzer import __version__
from analyzer.lower.tu import LoweredTU
from analyzer.model import ApiModel


def default_cache_dir() -> Path:
    base = os.environ.get("RCUCHECK_CACHE") or \
        str(Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rcucheck")
    return Path(base) / "tu"


class TUCache:
    def __init__(self, directory: Path | None, model: ApiModel) -> None:
        self.dir = directory
        self.model_fp = model.fingerprint()

    def key(self, job) -> str:
        data = "\0".join([__version__, code_fingerprint(), self.model_fp, job.file, job.name,
                          *job.args])
        return hashlib.sha256(data.encode()).hexdigest()

    def get(self, job) -> LoweredTU | None:
        if self.dir is None:
            return None
        path = self.dir / f"{self.key(job)}.pickle"
        try:
            with path.open("rb") as f:
                entry = pickle.load(f)
        except (OSError, EOFError, pickle.PickleError, AttributeError, ImportError,
                ValueError, TypeError, IndexError):
            return None
        if not isinstance(entry, dict) or entry.get("main") != _digest(job.file):
            return None
        for dep, size, mtime in entry["deps"]:
            try:
                st = os.stat(dep)
            except OSError:
                return None
            if st.st_size != size or st.st_mtime_ns != mtime:
                return None
        low = entry["lowered"]
        low.cached = True
        return low

    def put(self, job, low: LoweredTU) -> None:
        if self.dir is None:
            return
        stats = []
        for dep in low.includes:
            try:
                st = os.stat(dep)
            except OSError:
                return
            stats.append((dep, st.st_size, st.st_mtime_ns))
        entry = {"main": _digest(job.file), "deps": stats, "lowered": low}
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = self.dir / f".{self.key(job)}.{os.getpid()}.tmp"
            with tmp.open("wb") as f:
                pickle.dump(entry, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.dir / f"{self.key(job)}.pickle")
        except OSError:
            pass  # a cache that cannot be written is only slower


def code_files() -> list[Path]:
    """Every module and data file of the analyzer package, in every subpackage."""
    root = Path(__file__).resolve().parent.parent
    return sorted(p for p in root.rglob("*") if p.suffix in (".py", ".toml"))


@functools.cache
def code_fingerprint() -> str:
    """The analyzer's own code and data: a cache written by other code is not reused."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for src in code_files():
        h.update(str(src.relative_to(root)).encode())
        h.update(src.read_bytes())
    return h.hexdigest()[:16]


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None
