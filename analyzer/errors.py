"""The one exception type that turns into a clear sentence and exit code 2.

Every piece of bad input (a missing tree, a malformed compile database, a file
that is not C) is raised as `InputError` with a message written for the user;
the CLI prints it and exits 2, so no traceback ever reaches a terminal.
"""


class InputError(Exception):
    """Bad input the user can fix; the message is the whole explanation."""

    exit_code = 2
