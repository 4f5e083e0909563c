"""Suppressions: reviewed findings kept out of reports without touching kernel code.

A TOML file of `[[suppress]]` entries, each with a `reason` and either the finding's
line-free `fingerprint` (it survives edits around the code) or a `function` and a
`rule` (optionally a `file`), which cover every finding of that rule in that function.
Text output and exit codes leave suppressed findings out; SARIF keeps them as results
with a `suppressions` entry carrying the reason, as code scanning expects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from analyzer.errors import InputError, read_toml
from analyzer.ir import Finding

KEYS = {"fingerprint", "function", "rule", "file", "reason", "message"}


@dataclass(frozen=True)
class Suppression:
    reason: str
    fingerprint: str | None = None
    function: str | None = None
    rule: str | None = None
    file: str | None = None

    def matches(self, f: Finding, rel: Callable[[str], str]) -> bool:
        if self.fingerprint is not None:  # of either scheme (fingerprints.known)
            return self.fingerprint in (f.fingerprint, f.legacy_fingerprint)
        return f.function == self.function and f.rule == self.rule and \
            (self.file is None or rel(f.loc.file) == self.file)


@dataclass
class Suppressions:
    entries: list[Suppression]
    source: str = ""

    @classmethod
    def load(cls, path: str | Path) -> Suppressions:
        p = Path(path)
        data = read_toml(p, "suppressions")
        raw = data.get("suppress", [])
        if not isinstance(raw, list) or set(data) - {"suppress"}:
            raise InputError(f"suppressions {p}: expected only [[suppress]] entries")
        entries = []
        for i, e in enumerate(raw, 1):
            where = f"suppressions {p}, entry {i}"
            if not isinstance(e, dict) or set(e) - KEYS or \
                    not all(isinstance(v, str) for v in e.values()):
                raise InputError(f"{where}: keys are strings among {', '.join(sorted(KEYS))}")
            if not e.get("fingerprint") and not (e.get("function") and e.get("rule")):
                raise InputError(f"{where}: give a fingerprint, or a function and a rule")
            if not e.get("reason", "").strip():
                raise InputError(f"{where} has no reason: say why the finding is safe")
            entries.append(Suppression(e["reason"].strip(), e.get("fingerprint") or None,
                                       e.get("function"), e.get("rule"), e.get("file")))
        return cls(entries, str(p))

    def reason_for(self, f: Finding, rel: Callable[[str], str]) -> str | None:
        return next((s.reason for s in self.entries if s.matches(f, rel)), None)

    def split(self, findings: list[Finding], rel: Callable[[str], str]
              ) -> tuple[list[Finding], dict[str, str]]:
        """The findings still reported, and the suppressed ones' reasons by fingerprint."""
        shown, reasons = [], {}
        for f in findings:
            reason = self.reason_for(f, rel)
            if reason is None:
                shown.append(f)
            else:
                reasons[f.fingerprint] = reason
        return shown, reasons


def draft(findings: list[Finding], rel: Callable[[str], str]) -> str:
    """A suppressions file for `findings`, each entry awaiting its reviewer's reason."""
    entries = [{"fingerprint": f.fingerprint, "rule": f.rule, "function": f.function,
                "file": rel(f.loc.file), "message": f"line {f.loc.line}: {f.message}",
                "reason": ""} for f in findings]
    head = ("# rcucheck suppressions: give each entry a reason (why the finding is safe);\n"
            "# entries without one are refused. `fingerprint` follows the finding across\n"
            "# edits; delete it and keep `function` + `rule` to cover the whole function.\n")
    return head + tomli_w.dumps({"suppress": entries})
