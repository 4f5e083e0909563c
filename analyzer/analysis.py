"""Analyse one parsed translation unit: lower each function, run the engine and checkers."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

from analyzer import deepstack, summaries
from analyzer.engine import FunctionRun
from analyzer.findings import Finding
from analyzer.frontend import ParsedTU
from analyzer.lower import LowerContext, lower_function
from analyzer.model import ApiModel


@dataclass
class TUResult:
    """Findings of one translation unit and what it cost."""

    path: str
    functions: int
    parse_seconds: float
    analysis_seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    steps: int = 0


def checker_classes(rules: list[str] | None = None):
    from checkers import REGISTRY

    if rules is None:
        return [REGISTRY[k] for k in sorted(REGISTRY)]
    return [REGISTRY[r] for r in rules]


def analyze_tu(parsed: ParsedTU, model: ApiModel, rules: list[str] | None = None) -> TUResult:
    classes = checker_classes(rules)
    result = TUResult(str(parsed.path), len(parsed.functions), parsed.parse_seconds)
    t0 = time.perf_counter()

    def work() -> None:
        ctx = LowerContext.for_tu(parsed, model)
        lowered = []
        for fdef in parsed.functions:
            try:
                lowered.append(lower_function(ctx, fdef.cursor))
            except Exception as exc:  # one bad function must not stop the file
                result.problems.append(_internal(fdef.name, exc))
        inferred = summaries.infer(lowered, model)
        for fn in lowered:
            try:
                res = FunctionRun(fn, model, classes, inferred=inferred).run()
            except Exception as exc:
                result.problems.append(_internal(fn.name, exc))
                continue
            result.steps += res.steps
            result.findings.extend(res.findings)
            result.problems.extend(f"{fn.name}(): {u}" for u in fn.unsupported)

    deepstack.run(work)
    result.findings.sort(key=Finding.sort_key)
    result.analysis_seconds = time.perf_counter() - t0
    return result


def _internal(name: str, exc: Exception) -> str:
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return (f"{name}(): internal error {type(exc).__name__}: {exc} "
            f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
