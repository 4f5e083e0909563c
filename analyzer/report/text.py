"""gcc-style text output: what terminals, editors and kbuild logs understand."""

from __future__ import annotations

from collections.abc import Callable

from analyzer.ir import Finding


def format_finding(f: Finding, rel: Callable[[str], str], verbose: bool = False) -> str:
    """The finding and its path notes; `verbose` adds its confidence and the registered
    exception that demoted it, after the rule id (`[ref-leak; confidence: medium]`)."""
    tag = f.rule
    if verbose:
        tag += f"; confidence: {f.confidence}"
        if f.demoted_by:
            tag += "; demoted by " + ", ".join(f.demoted_by)
        if f.waived_by:
            tag += "; exception turned off: " + ", ".join(f.waived_by)
    lines = [f"{rel(f.loc.file)}:{f.loc.line}:{f.loc.col}: {f.level}: {f.message} [{tag}]"]
    for loc, text in f.notes:
        lines.append(f"    {rel(loc.file)}:{loc.line}:{loc.col}: note: {text}")
    return "\n".join(lines)
