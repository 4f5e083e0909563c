"""Small libclang helpers the lowering needs: operator kinds and unwrapping.

The 18.x Python bindings have no operator-kind API, but libclang ≥ 17 exports
`clang_getCursorBinaryOperatorKind`/`clang_getCursorUnaryOperatorKind`; they
work inside macro expansions, where tokens do not (expansion cursors have
collapsed extents).  When an older libclang lacks them, the operator is read
from the tokens after the left operand.
"""

from __future__ import annotations

import ctypes
import functools
from functools import cache

from analyzer.frontend import clang as clangsetup


def bind(lib, name: str, argtypes: list, restype, errcheck=None):
    """A libclang entry point with its C signature declared (AttributeError if absent)."""
    fn = getattr(lib, name)
    fn.argtypes = argtypes
    fn.restype = restype
    if errcheck is not None:
        fn.errcheck = errcheck
    return fn


class Ops:
    """Operator spelling for binary and unary operator cursors."""

    def __init__(self, cindex) -> None:
        self.ci = cindex
        lib = cindex.conf.lib
        self._bin = self._un = None
        try:
            self._bin = bind(lib, "clang_getCursorBinaryOperatorKind", [cindex.Cursor],
                             ctypes.c_int)
            self._un = bind(lib, "clang_getCursorUnaryOperatorKind", [cindex.Cursor],
                            ctypes.c_int)
            bspell = bind(lib, "clang_getBinaryOperatorKindSpelling", [ctypes.c_int],
                          cindex._CXString)
            uspell = bind(lib, "clang_getUnaryOperatorKindSpelling", [ctypes.c_int],
                          cindex._CXString)
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


@functools.cache
def ops() -> Ops:
    return Ops(clangsetup.load())


class _Extras:
    """libclang entry points the 18.x bindings do not wrap: initializers and constants."""

    CXEVAL_INT = 1

    def __init__(self, cindex) -> None:
        lib = cindex.conf.lib
        self.ci = cindex
        self._init = bind(lib, "clang_Cursor_getVarDeclInitializer", [cindex.Cursor],
                          cindex.Cursor, cindex.Cursor.from_result)
        self._eval = bind(lib, "clang_Cursor_Evaluate", [cindex.Cursor], ctypes.c_void_p)
        self._kind = bind(lib, "clang_EvalResult_getKind", [ctypes.c_void_p], ctypes.c_int)
        self._ll = bind(lib, "clang_EvalResult_getAsLongLong", [ctypes.c_void_p],
                        ctypes.c_longlong)
        self._dispose = bind(lib, "clang_EvalResult_dispose", [ctypes.c_void_p], None)

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


@functools.cache
def extras() -> _Extras:
    return _Extras(clangsetup.load())
