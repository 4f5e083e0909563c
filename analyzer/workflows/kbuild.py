"""kbuild's checker mode: `make C=1 CHECK="rcucheck kbuild"` runs us per translation unit.

kbuild passes CHECKFLAGS, the compiler's flags and the source file, as it does to
sparse; the compile command is rebuilt from them and run through the driver like
any other job.  libclang's own trouble with a file is a "skipped" notice, never an
error: the user's build did not fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analyzer.build.compdb import CompileCommand
from analyzer.driver.phase1 import Job
from analyzer.driver.session import Session
from analyzer.errors import InputError
from analyzer.ir import Finding


@dataclass
class KbuildResult:
    findings: list[Finding] = field(default_factory=list)
    # why the unit was skipped, in one sentence (None: it was analysed)
    skipped: str | None = None


def job_from_args(args: tuple[str, ...], cwd: Path) -> Job:
    sources = [a for a in args if a.endswith(".c") and not a.startswith("-")]
    if not sources:
        raise InputError("kbuild mode needs the C source file kbuild passes last")
    source = sources[-1]
    return Job.of(CompileCommand(str((cwd / source).resolve()), str(cwd), ("gcc", *args)))


def check(session: Session, job: Job) -> KbuildResult:
    res = session.run([job])
    (unit,) = res.units
    if unit.analysed:
        return KbuildResult(res.findings)
    out = unit.outcome
    if out.parse_errors:
        why = (f"libclang could not parse it cleanly ({len(out.parse_errors)} problems, "
               f"first at line {out.parse_errors[0].line})")
    else:
        why = out.error or "unknown trouble"
    return KbuildResult(skipped=why)
