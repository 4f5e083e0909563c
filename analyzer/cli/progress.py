"""Progress on stderr for runs over several files, and only where a person watches.

A bar (click's, already a dependency) shows files done of total, the file just
finished, elapsed and remaining time while phase 1 runs, then a status line while
summaries and checks run.  Nothing is drawn when stderr is not a terminal or with
`-q`, so logs, pipes, stdout and SARIF never see it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click


def wanted(quiet: bool, stream=None) -> bool:
    stream = stream or sys.stderr
    return not quiet and hasattr(stream, "isatty") and stream.isatty()


class Progress:
    """What `Session.run` reports to: `files(n)` around phase 1, `stage(text)` after."""

    def __init__(self, rel: Callable[[str], str] = str, stream=None) -> None:
        self.rel = rel
        self.stream = stream or sys.stderr
        self.t0 = time.monotonic()

    @contextmanager
    def files(self, total: int) -> Iterator[Callable]:
        if total < 2:
            yield lambda outcome: None
            return
        shown = {"name": ""}

        def item(_):
            elapsed = int(time.monotonic() - self.t0)
            return f"{shown['name']}  {elapsed // 60}:{elapsed % 60:02d} elapsed"

        with click.progressbar(length=total, label="analysing", file=self.stream,
                               show_eta=True, show_pos=True, item_show_func=item,
                               width=24) as bar:
            def tick(outcome) -> None:
                shown["name"] = self.rel(outcome.job.name)
                bar.update(1, outcome)

            yield tick

    @contextmanager
    def stage(self, text: str) -> Iterator[None]:
        self.stream.write(f"{text}…")
        self.stream.flush()
        try:
            yield
        finally:
            self.stream.write("\r\033[K")
            self.stream.flush()
