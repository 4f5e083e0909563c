"""Phase 1's lowering of one translation unit: its functions and the header inlines
its calls reach, as plain data that crosses processes and caches."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

from analyzer.frontend import clang as clangsetup
from analyzer.frontend import deepstack
from analyzer.frontend.parse import ParsedTU
from analyzer.ir import Assign, Call, Function, PlainAccess
from analyzer.lower.context import LowerContext
from analyzer.lower.lowerer import lower_function
from analyzer.model import ApiModel

HEADER_DEPTH = 3


@dataclass
class LoweredTU:
    """A TU's functions, lowered; `path` is the name its findings carry."""

    path: str
    parse_seconds: float
    lower_seconds: float = 0.0
    functions: list[Function] = field(default_factory=list)
    # callee name -> (header key, its lowered body, or None when already known)
    headers: dict[str, tuple[tuple[str, int, str], Function | None]] = field(
        default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # every header the TU included (the cache's dependencies, patches' affected units)
    includes: list[str] = field(default_factory=list)
    # libclang's error diagnostics (a TU with any is reported, not lowered)
    parse_errors: int = 0
    cached: bool = False


def lower_tu(parsed: ParsedTU, model: ApiModel,
             known: set[tuple[str, int, str]] | frozenset = frozenset(),
             name: str | None = None, focus: tuple[str, ...] = ()) -> LoweredTU:
    """Lower a parsed TU's functions and the header inlines its calls reach.

    Header inlines in `known` (lowered already for another TU of the run) are not
    lowered again; `name` is the path main-file locations carry.  With a `focus`, only
    those functions and what they call in the file are lowered (a file followed for the
    definitions another file calls).
    """
    out = LoweredTU(name or str(parsed.path), parsed.parse_seconds,
                    includes=parsed.includes(), parse_errors=len(parsed.errors))
    t0 = time.perf_counter()
    deepstack.run(lambda: _lower(parsed, model, known, out, focus))
    out.lower_seconds = time.perf_counter() - t0
    return out


def _lower(parsed: ParsedTU, model: ApiModel, known, out: LoweredTU,
           focus: tuple[str, ...] = ()) -> None:
    ctx = LowerContext.for_tu(parsed, model, out.path)
    for fdef in _reached(parsed, focus) if focus else parsed.functions:
        try:
            out.functions.append(lower_function(ctx, fdef.cursor))
        except Exception as exc:  # one bad function must not stop the file
            out.problems.append(internal_error(fdef.name, exc))
    _keep_plain_rcu(ctx, out.functions)
    done: set[str] = set()
    try:
        _lower_headers(ctx, known, out, done)
    finally:
        # the reclaim bit, once some mask showed it, lets summaries condition sleeps on
        # a gfp parameter
        typesafe = _typesafe_caches(out.functions, model)
        for fn in [*out.functions, *(f for _, f in out.headers.values() if f)]:
            fn.gfp_bit = ctx.gfp_reclaim_bit
            fn.typesafe_caches = typesafe
        taken = _address_taken(parsed, out.functions)
        for fn in out.functions:
            fn.callback = fn.name in taken


def _address_taken(parsed: ParsedTU, functions) -> set[str]:
    """Functions of the file used as values: in a file-scope initializer (`.func =
    mpls_forward`) or given by address in a body (`INIT_WORK(&w, fn)`)."""
    cindex = clangsetup.load()
    kinds = cindex.CursorKind
    out: set[str] = set()
    for cur in clangsetup.main_file_children(cindex, parsed.tu.cursor):
        if cur.kind != kinds.VAR_DECL:
            continue
        for c in cur.walk_preorder():
            if c.kind == kinds.DECL_REF_EXPR:
                ref = c.referenced
                if ref is not None and ref.kind == kinds.FUNCTION_DECL:
                    out.add(ref.spelling)
    for fn in functions:
        for block in fn.blocks:
            for ev in block.events:
                vals = ev.args if isinstance(ev, Call) else \
                    (ev.value,) if isinstance(ev, Assign) else ()
                out |= {v.text for v in vals if v.kind == "func"}
    return out


def _reached(parsed: ParsedTU, focus: tuple[str, ...]):
    """The definitions named in `focus` and those of the file they reach through calls
    or by address (a callback), in source order."""
    by_name = {f.name: f for f in parsed.functions}
    seen: set[str] = set()
    todo = [n for n in focus if n in by_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for ref in _referenced(by_name[name].cursor):
            if ref in by_name and ref not in seen:
                todo.append(ref)
    return [f for f in parsed.functions if f.name in seen]


def _referenced(cursor) -> set[str]:
    """Names of functions a definition refers to (calls, callbacks): a cursor walk, no
    lowering."""
    kinds = clangsetup.load().CursorKind
    out = set()
    for c in cursor.walk_preorder():
        if c.kind == kinds.DECL_REF_EXPR:
            ref = c.referenced
            if ref is not None and ref.kind == kinds.FUNCTION_DECL:
                out.add(ref.spelling)
    return out


def _typesafe_caches(functions, model: ApiModel) -> tuple[str, ...]:
    """Where the TU keeps the caches it creates with the model's typesafe flag:
    `sighand_cachep = kmem_cache_create(..., SLAB_TYPESAFE_BY_RCU, ...)`."""
    out: set[str] = set()
    for fn in functions:
        made: set[str] = set()
        for block in fn.blocks:
            for ev in block.events:
                if isinstance(ev, Call) and ev.callee:
                    fm = model.fn(ev.callee)
                    if fm is not None and fm.typesafe_flag and any(
                            fm.typesafe_flag in t for t in ev.arg_text):
                        made.add(ev.result)
                elif isinstance(ev, Assign) and ev.value.tmp in made:
                    out.add(ev.target.text)
    return tuple(sorted(out))


def _keep_plain_rcu(ctx: LowerContext, functions) -> None:
    """Of the plain pointer accesses recorded, those of pointers RCU readers share."""
    why = ctx.rcu_fields.why
    for fn in functions:
        for b in fn.blocks:
            if not any(isinstance(ev, PlainAccess) for ev in b.events):
                continue
            kept = []
            for ev in b.events:
                if isinstance(ev, PlainAccess):
                    ev.why = why(ev.key) or ""
                    if not ev.why:
                        continue
                kept.append(ev)
            b.events = kept


def _lower_headers(ctx: LowerContext, known, out: LoweredTU, done: set[str]) -> None:
    for _ in range(HEADER_DEPTH):
        todo = [(n, d) for n, d in ctx.header_defs.items() if n not in done]
        if not todo:
            break
        for fname, cursor in todo:
            done.add(fname)
            loc = cursor.location
            key = (loc.file.name if loc.file else "?", loc.line, fname)
            if key in known:
                out.headers[fname] = (key, None)
                continue
            try:
                out.headers[fname] = (key, lower_function(ctx, cursor))
            except Exception as exc:
                out.problems.append(internal_error(fname, exc))


def internal_error(name: str, exc: Exception) -> str:
    """One line for a bug of ours in one function: the run goes on without it."""
    where = traceback.extract_tb(exc.__traceback__)[-1]
    return (f"{name}(): internal error {type(exc).__name__}: {exc} "
            f"({where.filename.rsplit('/', 1)[-1]}:{where.lineno})")
