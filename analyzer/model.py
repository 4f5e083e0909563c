"""The kernel API model: what each function or macro does to RCU, references and sleep.

Knowledge lives in `data/kernel-api.toml` (and users' `--model` files), never in
checker code.  This module only loads and validates it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path

from analyzer.errors import InputError

FLAVOURS = ("rcu", "rcu_bh", "rcu_sched", "srcu", "rcu_trace", "implicit")
# Flavours that grace periods of synchronize_rcu()/call_rcu() wait for (consolidated RCU).
VANILLA = ("rcu", "rcu_bh", "rcu_sched", "implicit")


@dataclass(frozen=True)
class FnModel:
    name: str
    enter: str | None = None
    exit: str | None = None
    handle: int | None = None
    enter_if: str | None = None
    asserts: str | None = None
    sleeps: bool | str = False
    gfp: int | None = None
    waits_gp: str | None = None
    grace_period: bool = False
    assume: int | None = None
    requires: str | None = None
    returns_rcu: bool | str = False
    frees: int | None = None
    defers_free: int | None = None
    callback: int | None = None
    unpublishes: int | None = None
    get: int | None = None
    put: int | None = None
    tryget: int | None = None
    field: str | None = None
    returns_ref: bool = False
    same_object: int | None = None
    consumes: int | None = None
    consumes_more: tuple[int, ...] = ()
    derefs: tuple[int, ...] = ()
    # for entries inferred from a body: the steps that justify `sleeps`/`requires`
    why: tuple = ()
    why_requires: str = ""
    sleeps_outside_caller_rcu: bool = False
    inferred: bool = False


@dataclass(frozen=True)
class AccessModel:
    name: str
    needs: str = "rcu"
    handle: int | None = None
    cond: int | None = None


@dataclass(frozen=True)
class WalkModel:
    name: str
    needs: str = "rcu"
    cursor: int = 0
    head: int = 1
    handle: int | None = None
    cond: int | None = None


_FLAVOUR_KEYS = {"enter", "exit", "asserts", "waits_gp", "requires"}


class ApiModel:
    """Merged model: shipped file first, then users' files, later entries winning."""

    def __init__(self) -> None:
        self.fns: dict[str, FnModel] = {}
        self.access: dict[str, AccessModel] = {}
        self.walks: dict[str, WalkModel] = {}
        self.immortal: set[str] = set()
        self.texts: list[str] = []

    @classmethod
    def load(cls, extra: list[str | Path] | None = None) -> ApiModel:
        model = cls()
        shipped = resources.files("analyzer").joinpath("data/kernel-api.toml").read_text()
        model.merge(shipped, "the shipped model")
        for path in extra or []:
            try:
                text = Path(path).read_text()
            except OSError as exc:
                raise InputError(f"cannot read model file {path}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise InputError(f"model file {path} is not UTF-8 text") from None
            model.merge(text, f"model file {path}")
        return model

    def merge(self, text: str, origin: str) -> None:
        self.texts.append(text)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{origin} is not valid TOML: {exc}") from None
        unknown = set(data) - {"fn", "access", "walk", "objects"}
        if unknown:
            raise InputError(f"{origin} has unknown sections: {', '.join(sorted(unknown))}")
        objects = data.get("objects", {})
        if not isinstance(objects, dict) or set(objects) - {"immortal"} or not all(
                isinstance(n, str) for n in objects.get("immortal", [])):
            raise InputError(f"{origin}: [objects] takes only immortal = [names]")
        self.immortal |= set(objects.get("immortal", []))
        for name, entry in data.get("fn", {}).items():
            aliases = entry.pop("aliases", []) if isinstance(entry, dict) else []
            fm = _build(FnModel, name, entry, origin)
            for alias in [name, *aliases]:
                self.fns[alias] = FnModel(**{**fm.__dict__, "name": alias})
        for name, entry in data.get("access", {}).items():
            self.access[name] = _build(AccessModel, name, entry, origin)
        for name, entry in data.get("walk", {}).items():
            self.walks[name] = _build(WalkModel, name, entry, origin)

    def fingerprint(self) -> str:
        """Identifies the merged model, for caches of results that depend on it."""
        import hashlib

        return hashlib.sha256("\0".join(self.texts).encode()).hexdigest()[:16]

    def fn(self, name: str | None) -> FnModel | None:
        return self.fns.get(name) if name else None

    def macro_names(self) -> set[str]:
        """Names the lowering recognises at a macro use site."""
        return set(self.fns) | set(self.access) | set(self.walks)


def _build(cls, name: str, entry: object, origin: str):
    if not isinstance(entry, dict):
        raise InputError(f"{origin}: entry {name} must be a table")
    allowed = {f.name for f in fields(cls)} - {"name"}
    bad = set(entry) - allowed
    if bad:
        raise InputError(f"{origin}: entry {name} has unknown keys: {', '.join(sorted(bad))}")
    for key in _FLAVOUR_KEYS & set(entry):
        if entry[key] not in FLAVOURS:
            raise InputError(f"{origin}: entry {name}: {key} must be one of {', '.join(FLAVOURS)}")
    if "needs" in entry and entry["needs"] not in (*FLAVOURS, "none"):
        raise InputError(f"{origin}: entry {name}: needs must be a flavour or \"none\"")
    if "derefs" in entry:
        entry = {**entry, "derefs": tuple(entry["derefs"])}
    return cls(name=name, **entry)
