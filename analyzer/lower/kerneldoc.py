"""What a function's kernel-doc says of the context it may be called from.

`Context:` is kernel-doc's section for "whether the function can sleep, what locks it
takes, releases, or expects to be held" (Documentation/doc-guide/kernel-doc.rst).  A
function documented as callable from interrupt or atomic context (`Context: Any
context.`, `May be called in process or interrupt context ... May be called while holding
a spinlock.`, folio_put()) does not sleep on any path its callers can take, whatever its
body seems to show through callees the analysis reads without their conditions.  A
Context that mentions sleeping (`May sleep if the @gfp flags permit.`) says nothing of
the kind.
"""

from __future__ import annotations

import re

_CONTEXT = re.compile(r"^\s*\*?\s*Context:\s*(.*?)(?=^\s*\*?\s*(?:$|@|\w[\w ]*:\s))",
                      re.M | re.S)
_ATOMIC = re.compile(r"any context|interrupt context|interrupt or process context|"
                     r"atomic context|from (?:hard)?irq|holding a spin ?lock|"
                     r"safe to be used from any context", re.I)
_NO_SLEEP = re.compile(r"\b(?:not|never|cannot|won't|does not) (?:\w+ )?sleep", re.I)


def atomic_context(cursor) -> bool:
    """Does the kernel-doc of the function at `cursor` (or of its first declaration)
    say it may be called where sleeping is not allowed, without saying it may sleep?"""
    for c in (cursor, cursor.canonical):
        text = c.raw_comment if c is not None else None
        if text:
            return documents_atomic(text)
    return False


def documents_atomic(comment: str) -> bool:
    m = _CONTEXT.search(comment.replace("*/", "\n"))
    if m is None:
        return False
    context = " ".join(m.group(1).replace("*", " ").split())
    if not _ATOMIC.search(context):
        return False
    return "sleep" not in context.lower() or bool(_NO_SLEEP.search(context))
