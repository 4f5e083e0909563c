"""Load libclang once, from the PyPI wheel or from a user-named shared library.

Newer kernels need libclang >= 19 (`__typeof_unqual__`), newer than the PyPI
wheel, so `--libclang PATH` or `RCUCHECK_LIBCLANG` points the bindings at,
e.g., Debian's `/usr/lib/llvm-19/lib/libclang.so.1`.
"""

from __future__ import annotations

import atexit
import ctypes
import os

from analyzer.errors import InputError

ENV_VAR = "RCUCHECK_LIBCLANG"
_loaded: object | None = None


def load(library: str | None = None):
    """Return the `clang.cindex` module with its library loaded, or raise InputError."""
    global _loaded
    try:
        from clang import cindex
    except ImportError:
        raise InputError("the libclang Python bindings are not installed (pip install libclang)") \
            from None
    if _loaded is not None:
        return cindex
    library = library or os.environ.get(ENV_VAR) or None
    if library:
        if not os.path.exists(library):
            raise InputError(f"libclang library {library} does not exist")
        if cindex.Config.loaded:
            raise InputError("libclang was already loaded; --libclang must come first")
        cindex.Config.set_library_file(library)
    try:
        index = cindex.Index.create()
    except cindex.LibclangError as exc:
        first = str(exc).splitlines()[0]
        raise InputError(f"cannot load libclang ({first})") from None
    except OSError as exc:
        raise InputError(f"cannot load libclang: {exc}") from None
    _loaded = index
    _register_extras(cindex)
    atexit.register(_quiet_shutdown, cindex)
    return cindex


def _quiet_shutdown(cindex) -> None:
    """At exit, let libclang objects die without calling into a torn-down module.

    The bindings' destructors call `conf.lib`, which is already None while the
    interpreter unloads modules; the process is ending, so skip the disposal.
    """
    cindex.Index.__del__ = lambda self: None
    cindex.TranslationUnit.__del__ = lambda self: None


def index():
    """The shared `cindex.Index` of this process."""
    if _loaded is None:
        load()
    return _loaded


def _register_extras(cindex) -> None:
    """Declare libclang entry points the 18.x bindings do not wrap."""
    lib = cindex.conf.lib
    fn = lib.clang_Location_isFromMainFile
    fn.argtypes = [cindex.SourceLocation]
    fn.restype = ctypes.c_int


def is_from_main_file(cindex, location) -> bool:
    return bool(cindex.conf.lib.clang_Location_isFromMainFile(location))


def main_file_children(cindex, cursor) -> list:
    """The children of `cursor` that the main file holds, in order.

    A kernel unit's top level has ~70k children, nearly all from headers; the bindings'
    `get_children()` makes a Python cursor of each (and, against a precompiled preamble,
    each is read back from it).  Here the visit asks libclang where each child is and
    keeps only the main file's.
    """
    lib = cindex.conf.lib
    location, in_main = lib.clang_getCursorLocation, lib.clang_Location_isFromMainFile
    tu = cursor._tu
    out: list = []

    def visit(child, _parent, _data) -> int:
        if in_main(location(child)):
            child._tu = tu
            out.append(child)
        return 1  # CXChildVisit_Continue

    lib.clang_visitChildren(cursor, cindex.callbacks["cursor_visit"](visit), None)
    return out


def libclang_version(cindex) -> str:
    lib = cindex.conf.lib
    fn = lib.clang_getClangVersion
    fn.restype = cindex._CXString
    fn.argtypes = []
    return cindex._CXString.from_result(fn())
