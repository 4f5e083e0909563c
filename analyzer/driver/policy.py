"""Exit codes, decided in one place for every command.

0 clean, 1 findings at or above `--fail-on` (notes never fail by default), 2 bad
input or a unit that could not be analysed.  `scan` says findings or clean for the
units it analysed and 2 only when none could be (`analysed` counts them); a unit it
could not analyse is reported on stderr either way.  kbuild's checker mode exits 0 as
sparse does, unless `--werror` asks for 1 on findings.
"""

from __future__ import annotations

from analyzer.ir import Finding

LEVELS = {"note": 0, "warning": 1, "error": 2}
FAIL_ON = ("note", "warning", "error", "never")


def worst(findings: list[Finding]) -> int:
    return max((LEVELS.get(f.level, 1) for f in findings), default=-1)


def exit_code(findings: list[Finding], fail_on: str = "warning", failed: int = 0,
              kbuild: bool = False, werror: bool = False, analysed: int | None = None) -> int:
    if kbuild:
        return 1 if werror and findings else 0
    if failed and not analysed:
        return 2
    if fail_on == "never":
        return 0
    return 1 if worst(findings) >= LEVELS.get(fail_on, 1) else 0
