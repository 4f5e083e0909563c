"""gcc-style text output: what terminals, editors and kbuild logs understand."""

from __future__ import annotations

from collections.abc import Callable

from analyzer.ir import Finding


def format_finding(f: Finding, rel: Callable[[str], str]) -> str:
    lines = [f"{rel(f.loc.file)}:{f.loc.line}:{f.loc.col}: {f.level}: {f.message} [{f.rule}]"]
    for loc, text in f.notes:
        lines.append(f"    {rel(loc.file)}:{loc.line}:{loc.col}: note: {text}")
    return "\n".join(lines)
