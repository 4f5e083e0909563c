"""A configured kernel tree: validation, and where each file's flags come from.

Flags come, in order of preference, from the compile database; from kbuild's
own `.<obj>.o.cmd` file when the object was built; from kbuild itself, asked
what it would run (`make -n`); or, when kbuild cannot say, from the generic
x86_64 kbuild flag set derived here.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from analyzer.build import kbuild_cmds
from analyzer.build.compdb import CompileCommand, CompileDatabase
from analyzer.build.objects import BuiltObjects
from analyzer.errors import InputError

CONFIGURE_HINT = (
    "configure it with `make olddefconfig && make prepare` in the tree "
    "(or run scripts/get-kernel for Debian's 6.12 tree)"
)


NOT_BUILT = "not built on its own in this configuration"


@dataclass
class KernelTree:
    """A kernel source tree with its configuration and optional compile database."""

    root: Path
    compdb: CompileDatabase | None
    # files missing from the compile database: their kbuild .cmd file or derived flags
    derive: bool = False
    # files named (or under a directory named) that this configuration does not build
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    _objects: BuiltObjects | None = field(default=None, repr=False)
    # where kbuild writes: the tree itself, or an `O=` output directory (its `source`
    # link leads to `root`): configuration, generated headers, objects and .cmd files
    objroot: Path | None = None
    # what the user should know about how names were expanded (printed on stderr)
    notes: list[str] = field(default_factory=list)
    # kbuild's answers to `make -n`, asked once per file (None: kbuild had none)
    _asked: dict[Path, tuple[str, ...] | None] = field(default_factory=dict, repr=False)

    @property
    def objects(self) -> BuiltObjects:
        if self._objects is None:
            self._objects = BuiltObjects(self.root, self.out)
        return self._objects

    @property
    def out(self) -> Path:
        """Where kbuild's output is: the tree, or its `O=` directory."""
        return self.objroot or self.root

    @classmethod
    def open(cls, root: str | os.PathLike[str], compdb_path: str | None = None) -> KernelTree:
        path = Path(root).expanduser()
        if not path.exists():
            raise InputError(f"kernel tree {path} does not exist")
        if not path.is_dir():
            raise InputError(f"kernel tree {path} is not a directory")
        path = path.resolve()
        out = None
        if (path / "source").is_symlink() and (path / "source" / "include" / "linux").is_dir():
            # an O= output directory: kbuild links the source tree there as `source`
            out, path = path, (path / "source").resolve()
        if not (path / "Makefile").is_file() or not (path / "include" / "linux").is_dir():
            raise InputError(
                f"{path} does not look like a kernel tree (no Makefile or include/linux)"
            )
        if not ((out or path) / "include" / "generated" / "autoconf.h").is_file():
            raise InputError(f"kernel tree {out or path} is not configured: {CONFIGURE_HINT}")
        if compdb_path is not None:
            db_path = Path(compdb_path).expanduser()
            if db_path.is_dir():
                db_path = db_path / "compile_commands.json"
            if not db_path.is_file():
                raise InputError(f"compile database {db_path} does not exist")
            compdb: CompileDatabase | None = CompileDatabase.load(db_path)
        elif ((out or path) / "compile_commands.json").is_file():
            compdb = CompileDatabase.load((out or path) / "compile_commands.json")
        else:
            compdb = None
        return cls(path, compdb, objroot=out)

    def resolve(self, name: str) -> Path:
        """A user-named file: relative to where the user stands when that is inside the
        tree and the file is there, else relative to the tree (or absolute inside it).

        Containment is decided on the path as written, so a tree whose files are
        symbolic links (a shadow tree, `cp -rs`) is a tree like any other.
        """
        p = Path(name).expanduser()
        if p.is_absolute():
            cand = p
        else:
            here = Path.cwd()
            cand = here / p if self._inside(here) and (here / p).exists() else self.root / p
        full = Path(os.path.normpath(cand))
        if not full.is_relative_to(self.root):
            if full.resolve().is_relative_to(self.root):
                full = full.resolve()
            else:
                raise InputError(f"{name} is not inside the kernel tree {self.root}")
        if not full.exists():
            raise InputError(f"{name} does not exist in the kernel tree {self.root}")
        return full

    def _inside(self, path: Path) -> bool:
        return path.is_relative_to(self.root) or path.resolve().is_relative_to(self.root)

    def relative(self, path: str | Path) -> str:
        norm = Path(os.path.normpath(path))
        if norm.is_absolute() and norm.is_relative_to(self.root):
            return str(norm.relative_to(self.root))
        try:
            return str(Path(path).resolve().relative_to(self.root))
        except ValueError:
            return str(path)

    @staticmethod
    def find(start: Path) -> Path | None:
        """The kernel tree `start` is in: the nearest directory upward whose Makefile
        is the kernel's top-level one (it defines KERNELVERSION), as git finds its root,
        or an O= output directory (its `source` link leads to one)."""
        for d in (start, *start.parents):
            if (d / "source").is_symlink() and KernelTree.find((d / "source").resolve()) \
                    == (d / "source").resolve():
                return d  # an O= output directory
            mk = d / "Makefile"
            if mk.is_file() and (d / "include" / "linux").is_dir():
                try:
                    text = mk.read_text(errors="replace")
                except OSError:
                    continue
                if "KERNELVERSION" in text:
                    return d
        return None

    def expand(self, names: list[str]) -> list[Path]:
        """Files named by the user, minus those this configuration does not build.

        A directory means every .c under it that the compile database knows, or, with
        --derive-flags (or no database), every .c whose object kbuild builds in this
        configuration; the rest land in `skipped`, with the reason.
        """
        out: list[Path] = []
        for name in names:
            full = self.resolve(name)
            if full.is_dir():
                out.extend(self._expand_dir(name, full))
            elif full.suffix != ".c":
                raise InputError(f"{name} is not a C source file")
            elif self._not_built(full):
                self.skipped.append((full, NOT_BUILT))
            else:
                out.append(full)
        return list(dict.fromkeys(out))

    def _expand_dir(self, name: str, full: Path) -> list[Path]:
        got = self.objects.sources_under(str(full.relative_to(self.root)))
        if self.compdb is not None and not self.derive:
            found = sorted(Path(f) for f in self.compdb.files()
                           if Path(f).is_relative_to(full) and f.endswith(".c"))
            built = got[0] if got is not None else []
            missing = [c for c in built if self.compdb.get(str(c)) is None]
            if not missing:
                if not found:
                    raise InputError(f"no C file under {name} is in the compile database, "
                                     "and kbuild builds none there")
                return found
            # the database covers part of the directory: the directory means what kbuild
            # builds there, the rest with kbuild's own flags
            self.notes.append(f"{name}: the compile database knows {len(built) - len(missing)} "
                              f"of the {len(built)} files kbuild builds here; the others are "
                              "analysed with kbuild's own flags")
            self.derive = True
        if got is None:  # kbuild cannot say (no Makefile here): files it has built
            found = sorted(c for c in full.rglob("*.c") if self._cmd_file(c))
            if not found:
                raise InputError(f"kbuild does not build {name} and no C file under it was "
                                 "compiled here")
            return found
        built, not_built = got
        self.skipped += [(c, NOT_BUILT) for c in not_built]
        if not built:
            raise InputError(f"this configuration builds no C file under {name}")
        return built

    def _not_built(self, source: Path) -> bool:
        """Known not to be built here: not in the database and kbuild says so."""
        if self.compdb is not None and self.compdb.get(str(source)) is not None:
            return False
        if self.compdb is not None and not self.derive:
            return False  # command_for() explains the missing entry
        return self.objects.built(source) is False

    def command_for(self, source: Path, derive: bool = False) -> CompileCommand:
        """The compile command kbuild would use for `source` (`derive`: for a file
        missing from the compile database too, whatever the tree's setting)."""
        if self.compdb is not None:
            cmd = self.compdb.get(str(source))
            if cmd is None and not (self.derive or derive):
                raise InputError(
                    f"{self.relative(source)} is not in the compile database {self.compdb.path}; "
                    "build its object and regenerate the database "
                    "(scripts/get-kernel --files ... does both), or pass --derive-flags"
                )
            if cmd is not None:
                return cmd
        cmd_file = self._cmd_file(source)
        if cmd_file is not None:
            return _from_cmd_file(cmd_file, self.out, source)
        if source not in self._asked:
            self.ask_kbuild([source])
        argv = self._asked.get(source)
        if argv:
            return CompileCommand(str(source), str(self.out), argv)
        return CompileCommand(str(source), str(self.root),
                              tuple(derived_flags(self.root, source, self.objroot)))

    def ask_kbuild(self, sources: list[Path]) -> None:
        """Ask kbuild at once for the commands of `sources` that have no recorded one."""
        todo = [s for s in sources if s not in self._asked and self._cmd_file(s) is None
                and (self.compdb is None or self.compdb.get(str(s)) is None)]
        if todo:
            got = kbuild_cmds.ask(self.root, todo, out=self.out)
            self._asked.update({s: got.get(s) for s in todo})

    def dependencies(self, source: Path) -> set[Path] | None:
        """The headers kbuild recorded for `source`'s object (`deps_` of its .o.cmd file).

        None when the object was never built here (no .cmd file).
        """
        cmd_file = self._cmd_file(source)
        if cmd_file is None:
            return None
        out: set[Path] = set()
        inside = False
        for line in cmd_file.read_text(errors="replace").splitlines():
            if line.startswith("deps_") and line.rstrip().endswith(":= \\"):
                inside = True
                continue
            if inside:
                item = line.strip().rstrip("\\").strip()
                if not item:
                    break
                if not item.startswith("$("):
                    out.add((self.out / item).resolve())
        return out

    def recorded(self, source: Path) -> bool:
        """Does the build record `source`'s command (the database, or kbuild's .cmd)?"""
        return (self.compdb is not None and self.compdb.get(str(source)) is not None) or \
            self._cmd_file(source) is not None

    def _cmd_file(self, source: Path) -> Path | None:
        """kbuild's record of `source`'s object, in the tree or its O= directory."""
        try:
            where = self.out / Path(source).relative_to(self.root)
        except ValueError:
            where = Path(source)
        cand = where.with_name(f".{where.stem}.o.cmd")
        return cand if cand.is_file() else None


def _from_cmd_file(cmd_file: Path, root: Path, source: Path) -> CompileCommand:
    for line in cmd_file.read_text(errors="replace").splitlines():
        if line.startswith(("savedcmd_", "cmd_")) and ":=" in line:
            command = line.split(":=", 1)[1].strip()
            try:
                argv = shlex.split(command.split(";", 1)[0])
            except ValueError:
                break
            return CompileCommand(str(source), str(root), tuple(argv))
    raise InputError(f"{cmd_file} does not hold a compile command")


def derived_flags(root: Path, source: Path, out: Path | None = None) -> list[str]:
    """kbuild's x86_64 flags for a configured but unbuilt tree.

    This is the preprocessor-relevant part of what `make` passes for a
    built-in object under arch/x86 (Makefile, arch/x86/Makefile,
    scripts/Makefile.lib): enough for libclang to see what gcc sees.
    """
    rel = source.relative_to(root)
    base = rel.stem.replace("-", "_")
    config = _config(out or root)
    extra = []
    if config.get("CONFIG_FUNCTION_TRACER") == "y":
        extra.append("-DCC_USING_FENTRY")  # arch/x86/Makefile: x86_64 traces with fentry
    # an O= build keeps its generated headers in the output directory
    gen = [] if out is None else [f"-I{out}/arch/x86/include/generated", f"-I{out}/include",
                                  f"-I{out}/arch/x86/include/generated/uapi",
                                  f"-I{out}/include/generated/uapi"]
    return [
        "gcc", "-nostdinc", *gen,
        "-I./arch/x86/include", "-I./arch/x86/include/generated", "-I./include",
        "-I./arch/x86/include/uapi", "-I./arch/x86/include/generated/uapi",
        "-I./include/uapi", "-I./include/generated/uapi",
        "-include", "./include/linux/compiler-version.h",
        "-include", "./include/linux/kconfig.h",
        "-include", "./include/linux/compiler_types.h",
        "-D__KERNEL__", "-std=gnu11", "-m64", "-mno-red-zone", "-mcmodel=kernel",
        "-mno-sse", "-mno-mmx", "-mno-sse2", "-mno-3dnow", "-mno-avx", "-mno-80387",
        "-fno-strict-aliasing", "-fshort-wchar", "-funsigned-char", "-fno-common",
        "-fno-PIE", "-fno-delete-null-pointer-checks", "-fno-strict-overflow", "-O2",
        f"-I./{rel.parent}",
        f"-DKBUILD_MODFILE=\"{rel.with_suffix('')}\"",
        f"-DKBUILD_BASENAME=\"{base}\"", f"-DKBUILD_MODNAME=\"{base}\"",
        f"-D__KBUILD_MODNAME=kmod_{base}", *extra,
        "-c", "-o", str(rel.with_suffix(".o")), str(rel),
    ]


def _config(root: Path) -> dict[str, str]:
    """The tree's configuration (include/config/auto.conf, else .config)."""
    for path in (root / "include" / "config" / "auto.conf", root / ".config"):
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        return dict(line.split("=", 1) for line in text.splitlines()
                    if line.startswith("CONFIG_") and "=" in line)
    return {}
