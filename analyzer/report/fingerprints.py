"""Fingerprints: what identifies a finding across edits, runs and rewordings.

A finding's fingerprint (`rcucheck/v2`) hashes what it is about, never how it is
said: its rule, file, function and the anchor — the text of the line it points at,
with whitespace and comments normalised away.  It survives edits above the finding
(no line numbers) and any rewording of the message; a running count makes it unique
within a run.  The previous fingerprint (`rcucheck/v1`: rule, file, function and the
message with line numbers taken out) is still computed and matched, so baselines and
suppressions written before keep matching for one release.  Fingerprints are assigned
once per run, over every finding in report order, before any filtering (a baseline's
`--new-only`, a patch's before/after comparison), so that filtering can never renumber
them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection

from analyzer.ir import Finding

KEY = "rcucheck/v2"
LEGACY_KEY = "rcucheck/v1"
_LINE_REFS = re.compile(r"\b(lines?|at [\w./-]+:)\s*\d+(:\d+)?")
_COMMENTS = re.compile(r"/\*.*?\*/|//.*$")


def anchor(line: str) -> str:
    """The anchor line as code: comments dropped, whitespace collapsed."""
    return " ".join(_COMMENTS.sub(" ", line).split())


def stable(f: Finding, rel: str, anchor_text: str) -> str:
    data = "\0".join(("v2", f.rule, rel, f.function, anchor_text))
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def line_free(f: Finding, rel: str) -> str:
    """The v1 fingerprint: rule, file, function and message, no line numbers."""
    msg = _LINE_REFS.sub(r"\1 N", f.message)
    data = "\0".join((f.rule, rel, f.function, msg))
    return hashlib.sha256(data.encode()).hexdigest()[:32]


def ordered(findings: list[Finding], rel: Callable[[str], str]) -> list[Finding]:
    """Report order: by tree-relative file, then line, column, rule and message."""
    return sorted(findings, key=lambda x: (rel(x.loc.file), *x.sort_key()[1:]))


def assign(findings: list[Finding], rel: Callable[[str], str]) -> list[Finding]:
    """Order the findings and give each its unique fingerprints (`<hash>:<n>`)."""
    out = ordered(findings, rel)
    lines: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    for f in out:
        if f.loc.file not in lines:
            try:
                with open(f.loc.file, errors="replace") as fh:
                    lines[f.loc.file] = fh.read().split("\n")
            except OSError:
                lines[f.loc.file] = []
        text = lines[f.loc.file]
        where = anchor(text[f.loc.line - 1]) if 0 < f.loc.line <= len(text) else ""
        r = rel(f.loc.file)
        for attr, base in (("fingerprint", stable(f, r, where)),
                           ("legacy_fingerprint", line_free(f, r))):
            seen[base] = seen.get(base, 0) + 1
            setattr(f, attr, f"{base}:{seen[base]}")
    return out


def known(f: Finding, fingerprints: Collection[str]) -> bool:
    """Is `f` among `fingerprints` (a baseline's, a suppression's), by either key?"""
    return f.fingerprint in fingerprints or f.legacy_fingerprint in fingerprints
