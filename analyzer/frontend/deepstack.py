"""Run deep recursive work (lowering nested kernel expressions) on a big stack.

Macro expansions nest expressions hundreds of levels deep; the lowering recurses
once or twice per level.  A worker thread with a large stack and a raised
recursion limit keeps that far from both Python's limit and the C stack's.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
STACK_BYTES = 512 * 1024 * 1024
RECURSION_LIMIT = 200_000


def run(fn: Callable[[], T]) -> T:
    result: list = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(fn())
        except BaseException as exc:  # re-raised in the caller's thread
            error.append(exc)

    old_limit = sys.getrecursionlimit()
    old_size = threading.stack_size()
    sys.setrecursionlimit(max(old_limit, RECURSION_LIMIT))
    threading.stack_size(STACK_BYTES)
    try:
        worker = threading.Thread(target=target, name="rcucheck-deep")
        worker.start()
    finally:
        threading.stack_size(old_size)
    worker.join()
    if error:
        raise error[0]
    return result[0]
