"""Load a `compile_commands.json` and find the command for a source file.

The format is clang's JSON compilation database: a list of objects with
`directory`, `file` and either `arguments` (a list) or `command` (a shell
string).  Anything else is reported as malformed with the entry's index, so a
user can find the broken line.
"""

from __future__ import annotations

import json
import os
import shlex
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from analyzer.build.flags import TranslatedFlags, translate
from analyzer.errors import InputError


@dataclass(frozen=True)
class CompileCommand:
    """One translation unit's compile command, with absolute paths."""

    file: str
    directory: str
    argv: tuple[str, ...]

    @cached_property
    def translated(self) -> TranslatedFlags:
        """The flags libclang gets, translated once per command."""
        return translate(list(self.argv), self.directory, self.file)

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(self.translated.args)


class CompileDatabase:
    """The commands of a compile database, keyed by absolute source path."""

    def __init__(self, path: Path, commands: dict[str, CompileCommand]):
        self.path = path
        self._commands = commands

    def __contains__(self, source: str) -> bool:
        return os.path.normpath(source) in self._commands

    def __len__(self) -> int:
        return len(self._commands)

    def get(self, source: str) -> CompileCommand | None:
        return self._commands.get(os.path.normpath(source))

    def files(self) -> list[str]:
        return sorted(self._commands)

    @classmethod
    def load(cls, path: Path) -> CompileDatabase:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read compile database {path}: {exc.strerror}") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise InputError(f"compile database {path} is not UTF-8 text") from None
        except json.JSONDecodeError as exc:
            raise InputError(
                f"compile database {path} is not valid JSON "
                f"(line {exc.lineno}, column {exc.colno}: {exc.msg})"
            ) from None
        if not isinstance(data, list):
            raise InputError(f"compile database {path} must be a JSON list of entries")
        commands: dict[str, CompileCommand] = {}
        for index, entry in enumerate(data):
            cmd = _entry(entry, index, path)
            commands[cmd.file] = cmd
        return cls(path, commands)


def _entry(entry: object, index: int, path: Path) -> CompileCommand:
    where = f"compile database {path}, entry {index}"
    if not isinstance(entry, dict):
        raise InputError(f"{where} is not an object")
    directory = entry.get("directory")
    file = entry.get("file")
    if not isinstance(directory, str) or not isinstance(file, str):
        raise InputError(f"{where} needs string 'directory' and 'file' fields")
    if "arguments" in entry:
        argv = entry["arguments"]
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
            raise InputError(f"{where} has an 'arguments' field that is not a list of strings")
    elif isinstance(entry.get("command"), str):
        try:
            argv = shlex.split(entry["command"])
        except ValueError as exc:
            raise InputError(f"{where} has a 'command' that cannot be split: {exc}") from None
    else:
        raise InputError(f"{where} has neither 'arguments' nor 'command'")
    absfile = os.path.normpath(os.path.join(directory, file))
    return CompileCommand(absfile, directory, tuple(argv))
