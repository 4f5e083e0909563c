"""Translate a kbuild gcc command line into arguments libclang accepts.

kbuild compiles with gcc.  libclang must see the same preprocessor state
(defines, include paths, forced includes, target and optimisation macros) but
none of gcc's code-generation knobs, which clang either rejects or warns about.
It must also never see dependency-file options: libclang honours
`-Wp,-MMD,<file>` and would overwrite kbuild's `.d` files.

The policy is a keep-list: options that change how the source preprocesses or
type-checks are kept, everything else is dropped and reported as dropped.  A
keep-list survives the next gcc-only option kbuild adds; a drop-list would not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

# Options whose value may be joined (-Ifoo) or separate (-I foo) and names a path.
_PATH_OPTS = ("-I", "-isystem", "-iquote", "-idirafter", "-include", "-imacros")
# Options whose value may be joined or separate and is not a path.
_VALUE_OPTS = ("-D", "-U")
# Options that take a separate value and are dropped together with it.
_DROP_WITH_VALUE = {"-o", "-MF", "-MT", "-MQ", "-x", "-Xassembler", "-Xlinker", "--param",
                    "-aux-info", "-dumpbase", "-dumpdir"}
# Standalone options kept as they are.
_KEEP_EXACT = {
    "-nostdinc", "-nostdinc++", "-ffreestanding", "-fno-builtin", "-fshort-wchar",
    "-funsigned-char", "-fsigned-char", "-fno-strict-aliasing", "-fno-common",
    "-fno-PIE", "-fno-pie", "-fno-PIC", "-fno-pic", "-fno-delete-null-pointer-checks",
    "-fno-strict-overflow", "-fwrapv", "-fms-extensions", "-fno-asynchronous-unwind-tables",
    "-fno-omit-frame-pointer", "-fomit-frame-pointer", "-m64", "-m32", "-m16", "-mno-red-zone",
    "-msoft-float", "-mno-sse", "-mno-sse2", "-mno-mmx", "-mno-3dnow", "-mno-avx",
    "-mno-80387", "-mno-fp-ret-in-387", "-mno-sse4a", "-mretpoline-external-thunk",
}
# Option prefixes kept as they are (joined values).
_KEEP_PREFIX = ("-std=", "-O", "-fcf-protection=", "-fstack-protector", "-mcmodel=", "-march=",
                "-fno-builtin-", "-mstack-protector-guard", "-fbracket-depth=",
                "-fstrict-flex-arrays=", "--target=", "-target=")
# Dependency-file options that must never reach libclang.
_DEPFILE_PREFIX = ("-Wp,-MD", "-Wp,-MMD", "-MD", "-MMD", "-MP")


@dataclass
class TranslatedFlags:
    """The arguments for libclang and what was left out, for `--verbose`."""

    args: list[str]
    dropped: list[str] = field(default_factory=list)


def _absolute(path: str, directory: str) -> str:
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(directory, path))


def translate(argv: list[str], directory: str, source: str | None = None) -> TranslatedFlags:
    """Turn a compile command (compiler first) into libclang arguments.

    Relative include paths are made absolute against `directory`, the compile
    command's working directory, so parsing does not depend on our own cwd.
    The source file itself, `-c` and `-o` are removed: libclang gets the path
    separately.
    """
    out: list[str] = []
    dropped: list[str] = []
    src_abs = _absolute(source, directory) if source else None
    i = 1 if argv and not argv[0].startswith("-") else 0
    while i < len(argv):
        arg = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        i += 1
        if not arg.startswith("-"):
            if src_abs is not None and _absolute(arg, directory) == src_abs:
                continue
            if arg.endswith((".c", ".S", ".s")) and src_abs is None:
                continue
            dropped.append(arg)
            continue
        if arg in _DROP_WITH_VALUE:
            dropped.extend([arg, nxt] if nxt is not None else [arg])
            i += 1
            continue
        if arg == "-c" or arg.startswith(_DEPFILE_PREFIX) or arg.startswith(("-MF", "-MT", "-MQ")):
            dropped.append(arg)
            continue
        if arg in _PATH_OPTS:
            if nxt is None:
                dropped.append(arg)
                continue
            out.extend([arg, _absolute(nxt, directory)])
            i += 1
            continue
        joined = next((p for p in _PATH_OPTS if arg.startswith(p)), None)
        if joined is not None:
            out.append(joined + _absolute(arg[len(joined):], directory))
            continue
        if arg in _VALUE_OPTS:
            if nxt is not None:
                out.extend([arg, nxt])
                i += 1
            continue
        if arg.startswith(_VALUE_OPTS):
            out.append(arg)
            continue
        if arg in _KEEP_EXACT or arg.startswith(_KEEP_PREFIX):
            out.append(arg)
            continue
        dropped.append(arg)
    if not any(a.startswith(("--target=", "-target")) for a in out) and "-m64" in out:
        out.insert(0, "--target=x86_64-linux-gnu")
    # Only errors are reported; clang's own warnings on kernel headers are noise.
    out.append("-w")
    return TranslatedFlags(out, dropped)
