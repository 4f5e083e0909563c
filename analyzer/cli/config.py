"""The project configuration file, `.rcucheck.toml` at the tree's root (or `--config`).

It holds what a team wants every run to share, so CI, `make C=1` and a developer's
check-patch agree without repeating flags:

    rules = ["rcu-unbalanced", "ref-leak"]   # run only these (default: all)
    disable = ["rcu-plain-access"]           # never run these
    fail-on = "warning"                      # note | warning | error | never
    model = ["rcucheck-model.toml"]          # extra API model files
    suppress = "rcucheck-suppress.toml"      # reviewed findings

Paths are relative to the file.  Command-line options win over the file.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.errors import InputError, read_toml

FILE_NAME = ".rcucheck.toml"
KEYS = {"rules", "disable", "fail-on", "model", "suppress"}
FAIL_ON = ("note", "warning", "error", "never")


@dataclass
class RunConfig:
    path: Path | None = None
    rules: list[str] = field(default_factory=list)
    disable: list[str] = field(default_factory=list)
    fail_on: str | None = None
    models: list[str] = field(default_factory=list)
    suppress: str | None = None


def load(explicit: str | None, tree_root: Path | None) -> RunConfig:
    """The configuration: `explicit` if given, else the tree's `.rcucheck.toml` if any."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise InputError(f"configuration file {path} does not exist")
    elif tree_root is not None and (tree_root / FILE_NAME).is_file():
        path = tree_root / FILE_NAME
    else:
        return RunConfig()
    data = read_toml(path, "configuration")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise InputError(f"configuration {path}: unknown key {unknown[0]}"
                         f"{did_you_mean(unknown[0], KEYS)} (keys: {', '.join(sorted(KEYS))})")

    def strings(key: str) -> list[str]:
        v = data.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            raise InputError(f"configuration {path}: {key} is a list of strings")
        return v

    fail_on = data.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise InputError(f"configuration {path}: fail-on is one of {', '.join(FAIL_ON)}")
    suppress = data.get("suppress")
    if suppress is not None and not isinstance(suppress, str):
        raise InputError(f"configuration {path}: suppress is a file name")
    here = path.parent
    return RunConfig(path, strings("rules"), strings("disable"), fail_on,
                     [str(here / m) for m in strings("model")],
                     str(here / suppress) if suppress else None)


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def select_rules(known: set[str], only: list[str], disable: list[str],
                 where: str = "") -> list[str] | None:
    """The rules to run (None: all), every name checked against the registry."""
    for name in [*only, *disable]:
        if name not in known:
            raise InputError(f"unknown rule {name}{where}{did_you_mean(name, known)} "
                             "(rcucheck rules lists them)")
    if not disable:
        return list(only) or None
    chosen = [r for r in (only or sorted(known)) if r not in disable]
    if not chosen:
        raise InputError("every rule is disabled: nothing to check")
    return chosen
