"""Small libclang helpers the lowering needs: operator kinds and unwrapping.

The 18.x Python bindings have no operator-kind API, but libclang ≥ 17 exports
`clang_getCursorBinaryOperatorKind`/`clang_getCursorUnaryOperatorKind`; they
work inside macro expansions, where tokens do not (expansion cursors have
collapsed extents).  When an older libclang lacks them, the operator is read
from the tokens after the left operand.
"""

from __future__ import annotations

import ctypes
from functools import cache

from analyzer import clangsetup


class Ops:
    """Operator spelling for binary and unary operator cursors."""

    def __init__(self, cindex) -> None:
        self.ci = cindex
        lib = cindex.conf.lib
        self._bin = self._un = None
        try:
            self._bin = lib.clang_getCursorBinaryOperatorKind
            self._bin.argtypes = [cindex.Cursor]
            self._bin.restype = ctypes.c_int
            self._un = lib.clang_getCursorUnaryOperatorKind
            self._un.argtypes = [cindex.Cursor]
            self._un.restype = ctypes.c_int
            bspell = lib.clang_getBinaryOperatorKindSpelling
            bspell.argtypes = [ctypes.c_int]
            bspell.restype = cindex._CXString
            uspell = lib.clang_getUnaryOperatorKindSpelling
            uspell.argtypes = [ctypes.c_int]
            uspell.restype = cindex._CXString
            self._bspell = cache(lambda k: cindex._CXString.from_result(bspell(k)))
            self._uspell = cache(lambda k: cindex._CXString.from_result(uspell(k)))
        except AttributeError:
            self._bin = self._un = None

    def binary(self, cur) -> str:
        if self._bin is not None:
            return self._bspell(self._bin(cur))
        return _binary_from_tokens(cur)

    def unary(self, cur) -> str:
        if self._un is not None:
            return self._uspell(self._un(cur))
        toks = [t.spelling for t in cur.get_tokens()]
        if not toks:
            return ""
        if toks[-1] in ("++", "--") and len(toks) > 1:
            return toks[-1]
        return toks[0]


def _binary_from_tokens(cur) -> str:
    """The operator is the first token after the left operand's tokens."""
    children = list(cur.get_children())
    if not children:
        return ""
    left_end = children[0].extent.end.offset
    for tok in cur.get_tokens():
        if tok.extent.start.offset >= left_end:
            return tok.spelling
    return ""


_ops: Ops | None = None


def ops() -> Ops:
    global _ops
    if _ops is None:
        _ops = Ops(clangsetup.load())
    return _ops


class _Extras:
    """libclang entry points the 18.x bindings do not wrap: initializers and constants."""

    CXEVAL_INT = 1

    def __init__(self, cindex) -> None:
        lib = cindex.conf.lib
        self.ci = cindex
        self._init = lib.clang_Cursor_getVarDeclInitializer
        self._init.argtypes = [cindex.Cursor]
        self._init.restype = cindex.Cursor
        self._init.errcheck = cindex.Cursor.from_result
        self._eval = lib.clang_Cursor_Evaluate
        self._eval.argtypes = [cindex.Cursor]
        self._eval.restype = ctypes.c_void_p
        self._kind = lib.clang_EvalResult_getKind
        self._kind.argtypes = [ctypes.c_void_p]
        self._kind.restype = ctypes.c_int
        self._ll = lib.clang_EvalResult_getAsLongLong
        self._ll.argtypes = [ctypes.c_void_p]
        self._ll.restype = ctypes.c_longlong
        self._dispose = lib.clang_EvalResult_dispose
        self._dispose.argtypes = [ctypes.c_void_p]
        self._dispose.restype = None

    def var_init(self, cur):
        """The initializer of a variable declaration, or None (typeof() children excluded)."""
        return self._init(cur)

    def evaluate_int(self, cur) -> int | None:
        """The value of a constant integer expression, or None."""
        res = self._eval(cur)
        if not res:
            return None
        try:
            if self._kind(res) != self.CXEVAL_INT:
                return None
            return int(self._ll(res))
        finally:
            self._dispose(res)


_extras: _Extras | None = None


def extras() -> _Extras:
    global _extras
    if _extras is None:
        _extras = _Extras(clangsetup.load())
    return _extras
