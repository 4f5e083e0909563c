"""Does an allocation's gfp mask allow it to sleep?

Only `__GFP_DIRECT_RECLAIM` makes an allocation block (KERNEL-APIS 5a):
`GFP_KERNEL`, `GFP_NOFS`, `GFP_NOIO`, `GFP_USER`… include it; `GFP_ATOMIC`,
`GFP_NOWAIT` do not; `gfp & ~__GFP_DIRECT_RECLAIM` removes it.  A mask held in
a variable is unknown here, and unknown is not reported.
"""

from __future__ import annotations

import re

_SLEEPING = re.compile(
    r"\b(GFP_KERNEL(?:_ACCOUNT)?|GFP_NOFS|GFP_NOIO|GFP_USER|GFP_HIGHUSER(?:_MOVABLE)?|"
    r"GFP_TRANSHUGE|__GFP_DIRECT_RECLAIM|__GFP_RECLAIM)\b"
)
_ATOMIC = re.compile(r"\b(GFP_ATOMIC|GFP_NOWAIT|GFP_TRANSHUGE_LIGHT|__GFP_HIGH)\b")
_CLEARED = re.compile(r"~\s*\(?\s*(__GFP_DIRECT_RECLAIM|__GFP_RECLAIM)\b")


def gfp_may_sleep(text: str) -> bool | None:
    """True if the mask allows direct reclaim, False if it cannot, None if unknown."""
    if _CLEARED.search(text):
        return False
    if _SLEEPING.search(text):
        return True
    if _ATOMIC.search(text):
        return False
    return None
