"""The ledger of early exits: every place a checker or the engine stops looking.

An early exit (`if COND: return` or `continue`) in a checker or in the engine is
either part of what a rule means (the event is not one it is about, a reference is
held, another rule reports the same defect) or a heuristic that silences a finding.
Heuristics are registered exceptions (`analyzer.engine.exceptions`) and their exits
call `run.allows(EXC)`; everything else is classified in `early_exits.toml`, with
why.  `tests/test_exceptions.py` fails when code grows an exit the ledger does not
list, or the ledger lists one the code no longer has, so each new exit is a decision
someone wrote down.
"""

from __future__ import annotations

import ast
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LEDGER = Path(__file__).with_name("early_exits.toml")
# where exits decide what is reported: the rules, and the engine they query
SCANNED = ("checkers", "analyzer/engine")
KINDS = {
    "scope": "the event is not one the rule is about (no model entry, not a pointer, "
             "an argument the call does not have), or a helper's input is not its case",
    "holds": "what the rule asks for is there on this path (a reference, a section, a "
             "grace period), or the path cannot be taken",
    "defers": "another rule, or another place of this rule, reports the same defect, "
              "or the callee's own body is where it is checked",
    "reported": "the finding was just made: nothing more to say on this event",
    "unknown": "the path's state does not know (paths joined past the bound, a depth "
               "that disagreed): reporting would be a guess",
    "algorithm": "a step of the walk or of a search (a fixpoint reached, a point seen, "
                 "an infeasible branch), not a decision about a finding",
    "exception": "a registered exception: the condition asks `allows()`",
}


@dataclass(frozen=True, order=True)
class Exit:
    file: str       # relative to the project root
    function: str   # Class.method or function
    when: str       # the condition, as ast.unparse writes it

    @property
    def key(self) -> str:
        return f"{self.file}:{self.function}: {self.when}"


def _root() -> Path:
    return ROOT  # looked up at call time: a test points it at a copy


def _is_exit(node: ast.If) -> bool:
    last = node.body[-1]
    if isinstance(last, ast.Continue):
        return True
    return isinstance(last, ast.Return) and (
        last.value is None or isinstance(last.value, ast.Constant))


def exits_in(path: Path) -> list[Exit]:
    """The early exits of one module, with the function each is in."""
    rel = path.relative_to(_root()).as_posix()
    out: list[Exit] = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.If) and _is_exit(child):
                out.append(Exit(rel, ".".join(scope) or "<module>", ast.unparse(child.test)))
            visit(child, scope)

    visit(ast.parse(path.read_text()), [])
    return out


def exits_in_code() -> list[Exit]:
    found: list[Exit] = []
    for top in SCANNED:
        for path in sorted((_root() / top).glob("*.py")):
            if path.name != Path(__file__).name:
                found.extend(exits_in(path))
    return sorted(found)


def ledger() -> list[dict]:
    with LEDGER.open("rb") as fh:
        return tomllib.load(fh)["exit"]


def mismatches() -> tuple[list[str], list[str]]:
    """(exits in the code the ledger does not list, ledger entries the code lacks), as
    keys; an exit that occurs n times in one function is listed with `count = n`."""
    from collections import Counter

    code = Counter(x.key for x in exits_in_code())
    listed = Counter({f"{e['at']}: {e['when']}": e.get("count", 1) for e in ledger()})
    return sorted((code - listed).elements()), sorted((listed - code).elements())
