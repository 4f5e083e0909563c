"""Parse one translation unit as kbuild would compile it, and index its main file.

Only what the main file defines is walked: a kernel TU holds ~700k cursors, its
own function bodies a few tens of thousands.  Header inlines are reached later,
through the calls that lead to them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.build.compdb import CompileCommand
from analyzer.errors import InputError
from analyzer.frontend import clang as clangsetup
from analyzer.frontend.macros import MacroIndex, MacroUse
from analyzer.frontend.preamble import Preambles, blanked, without_includes

# CXTranslationUnit_KeepGoing: do not stop at the first fatal error.
_KEEP_GOING = 0x200
_SEVERITY = {0: "ignored", 1: "note", 2: "warning", 3: "error", 4: "fatal"}


@dataclass(frozen=True)
class Diagnostic:
    """A libclang diagnostic, reduced to what a report needs."""

    severity: str
    file: str
    line: int
    column: int
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity in ("error", "fatal")


@dataclass
class FunctionDef:
    """A function defined in the main file."""

    name: str
    line: int
    column: int
    cursor: object = field(repr=False)
    is_static: bool = False


@dataclass
class ParsedTU:
    """A parsed translation unit and the indexes built over its main file."""

    path: Path
    tu: object = field(repr=False)
    parse_seconds: float
    diagnostics: list[Diagnostic]
    functions: list[FunctionDef]
    macros: MacroIndex
    args: list[str] = field(repr=False, default_factory=list)
    # the main file's own function-like macros: name -> the definition's tokens
    macro_defs: dict[str, tuple[str, ...]] = field(repr=False, default_factory=dict)
    # the headers a stored preamble it was parsed against includes (see `preamble`)
    preamble_includes: tuple[str, ...] = ()

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    def function(self, name: str) -> FunctionDef | None:
        return next((f for f in self.functions if f.name == name), None)

    def includes(self) -> list[str]:
        """Every header the TU included, for caches and for patches that change one."""
        return sorted({inc.include.name for inc in self.tu.get_includes()} |
                      set(self.preamble_includes))


def parse_command(cmd: CompileCommand, extra_args: list[str] | None = None) -> ParsedTU:
    """Parse the file of a compile command with its translated flags."""
    return parse_file(Path(cmd.file), [*cmd.args, *(extra_args or [])])


@dataclass(frozen=True)
class PreambleUse:
    """Parse against a stored preamble: the store of them, the flags of the tree's own
    file (what the preamble is built with), the directory its quoted includes resolve
    from, and whether to build one when none is stored."""

    store: Preambles
    args: tuple[str, ...]
    quote_dir: str
    build: bool = True


def parse_file(path: Path, args: list[str], preamble: PreambleUse | None = None) -> ParsedTU:
    """Parse `path` with libclang arguments `args` (already translated), against a stored
    preamble when `preamble` says so and one can be had."""
    cindex = clangsetup.load()
    index = clangsetup.index()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    if b"\0" in data:
        raise InputError(f"{path} is not C source (it contains NUL bytes)")
    options = cindex.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD | _KEEP_GOING
    t0 = time.perf_counter()
    tu, pre = None, None
    for _ in range(2 if preamble is not None else 0):
        pre = preamble.store.find(cindex, index, data, list(preamble.args),
                                  preamble.quote_dir, preamble.build)
        if pre is None:
            break
        try:
            tu = index.parse(str(path), args=[*without_includes(args), "-include-pch",
                                              str(pre.pch)],
                             unsaved_files=[(str(path), blanked(data, pre.length))],
                             options=options)
        except cindex.TranslationUnitLoadError:
            tu = None
        if tu is not None and not any(d.severity >= 3 for d in tu.diagnostics):
            break
        # a header changed since the preamble was built (clang refuses it): build it again
        preamble.store.drop(pre)
        tu, pre = None, None
    if tu is None:
        try:
            tu = index.parse(str(path), args=args, options=options)
        except cindex.TranslationUnitLoadError:
            raise InputError(f"libclang could not parse {path} at all") from None
    elapsed = time.perf_counter() - t0
    diags = [_diagnostic(d) for d in tu.diagnostics]
    functions, macros, defs = _index_main_file(cindex, tu)
    return ParsedTU(path, tu, elapsed, diags, functions, MacroIndex(macros), list(args), defs,
                    pre.includes if pre is not None else ())


def _diagnostic(d) -> Diagnostic:
    loc = d.location
    return Diagnostic(
        _SEVERITY.get(d.severity, "error"),
        loc.file.name if loc.file else "",
        loc.line,
        loc.column,
        d.spelling,
    )


def _index_main_file(cindex, tu) -> tuple[list[FunctionDef], list[MacroUse],
                                           dict[str, tuple[str, ...]]]:
    """One pass over the TU's top level: main-file function definitions, macro uses and
    the definitions of the function-like macros it defines or uses."""
    kinds = cindex.CursorKind
    functions: list[FunctionDef] = []
    macros: list[MacroUse] = []
    defs: dict[str, tuple[str, ...]] = {}
    header: dict[str, tuple[str, ...]] = {}
    seen: set[str] = set()
    for cur in clangsetup.main_file_children(cindex, tu.cursor):
        kind = cur.kind
        if kind == kinds.MACRO_DEFINITION:
            toks = list(cur.get_tokens())
            # function-like: the parenthesis touches the name
            if len(toks) > 2 and toks[1].spelling == "(" and \
                    toks[1].extent.start.offset == toks[0].extent.end.offset:
                defs[cur.spelling] = tuple(t.spelling for t in toks)
        elif kind == kinds.MACRO_INSTANTIATION:
            loc = cur.location
            ext = cur.extent
            tokens = tuple(t.spelling for t in cur.get_tokens())
            macros.append(MacroUse(cur.spelling, loc.line, loc.column,
                                   ext.start.offset, ext.end.offset, tokens))
            if len(tokens) > 2 and tokens[1] == "(" and cur.spelling not in seen:
                # a header's function-like macro used here (`sk_for_each_rcu()`): its
                # definition, for uses that wrap a model macro (see `macros.unwrap`)
                seen.add(cur.spelling)
                d = cur.referenced
                if d is not None and d.kind == kinds.MACRO_DEFINITION:
                    toks = list(d.get_tokens())
                    if len(toks) > 2 and toks[1].spelling == "(" and \
                            toks[1].extent.start.offset == toks[0].extent.end.offset:
                        header[cur.spelling] = tuple(t.spelling for t in toks)
        elif kind == kinds.FUNCTION_DECL and cur.is_definition():
            loc = cur.location
            functions.append(FunctionDef(
                cur.spelling, loc.line, loc.column, cur,
                cur.storage_class == cindex.StorageClass.STATIC,
            ))
    # (the file's own definition wins: it is the one its uses below it expand)
    return functions, macros, {**header, **defs}
