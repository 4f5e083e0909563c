"""Exit codes, decided in one place for every command.

0 clean, 1 findings at or above `--fail-on` (notes never fail by default), 2 bad
input or nothing could be analysed, 3 some file could not be analysed (the others
were, and their findings are reported): a run that checked less than it was asked
never looks clean to CI.  kbuild's checker mode exits 0 as sparse does, unless
`--werror` asks for 1 on findings.
"""

from __future__ import annotations

from analyzer.ir import Finding

LEVELS = {"note": 0, "warning": 1, "error": 2}
FAIL_ON = ("note", "warning", "error", "never")
PARTIAL = 3  # some named file could not be analysed


def plural(n: int, word: str) -> str:
    """`1 finding`, `2 findings`: counts read as a person writes them."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def worst(findings: list[Finding]) -> int:
    return max((LEVELS.get(f.level, 1) for f in findings), default=-1)


def exit_code(findings: list[Finding], fail_on: str = "warning", failed: int = 0,
              kbuild: bool = False, werror: bool = False, analysed: int | None = None) -> int:
    if kbuild:
        return 1 if werror and findings else 0
    if failed and not analysed:
        return 2
    if failed:
        return PARTIAL
    if fail_on == "never":
        return 0
    return 1 if worst(findings) >= LEVELS.get(fail_on, 1) else 0
