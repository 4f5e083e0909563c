"""Line-free fingerprints: what identifies a finding across edits and runs.

A finding's fingerprint hashes its rule, file, function and message with line
numbers taken out, so it survives edits above it; a running count makes it
unique within a run.  Fingerprints are assigned once per run, over every
finding in report order, before any filtering (a baseline's `--new-only`, a
patch's before/after comparison), so that filtering can never renumber them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from analyzer.ir import Finding

KEY = "rcucheck/v1"
_LINE_REFS = re.compile(r"\b(lines?|at [\w./-]+:)\s*\d+(:\d+)?")


def line_free(f: Finding, rel: str) -> str:
    """Survives edits above the finding: rule, file, function and message, no lines."""
    msg = _LINE_REFS.sub(r"\1 N", f.message)
    data = "\0".join((f.rule, rel, f.function, msg))
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def ordered(findings: list[Finding], rel: Callable[[str], str]) -> list[Finding]:
    """Report order: by tree-relative file, then line, column, rule and message."""
    return sorted(findings, key=lambda x: (rel(x.loc.file), *x.sort_key()[1:]))


def assign(findings: list[Finding], rel: Callable[[str], str]) -> list[Finding]:
    """Order the findings and give each its unique fingerprint (`<hash>:<n>`)."""
    out = ordered(findings, rel)
    seen: dict[str, int] = {}
    for f in out:
        base = line_free(f, rel(f.loc.file))
        seen[base] = seen.get(base, 0) + 1
        f.fingerprint = f"{base}:{seen[base]}"
    return out
