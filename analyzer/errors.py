"""The one exception type that turns into a clear sentence and exit code 2.

Every piece of bad input (a missing tree, a malformed compile database, a file
that is not C) is raised as `InputError` with a message written for the user;
the CLI prints it and exits 2, so no traceback ever reaches a terminal.
"""


class InputError(Exception):
    """Bad input the user can fix; the message is the whole explanation."""

    exit_code = 2


def read_toml(path, what: str) -> dict:
    """A user's TOML file (`what`: "suppressions", "configuration"), any failure to read
    or parse it one sentence."""
    import tomllib
    from pathlib import Path

    p = Path(path)
    try:
        return tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {p} is not valid TOML: {exc}") from None
