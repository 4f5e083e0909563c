"""Does an allocation's gfp mask allow it to sleep?

Only the direct-reclaim bit makes an allocation block: `gfpflags_allow_blocking()`
tests exactly that bit (include/linux/gfp.h).  When libclang can evaluate the
mask, the lowering records whether that bit is set (`Call.gfp_blocks`); the
mask's spelling is the fallback, read with the flag names of the model's `[gfp]`
table.  A mask held in a variable is unknown, and unknown is not reported.
"""

from __future__ import annotations

import re
from functools import cache

from analyzer.model.api import Gfp


@cache
def _patterns(gfp: Gfp) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    def words(names) -> re.Pattern:
        alt = "|".join(re.escape(n) for n in names) or r"(?!x)x"
        return re.compile(rf"\b({alt})\b")

    cleared = "|".join(re.escape(n) for n in gfp.cleared) or r"(?!x)x"
    return words(gfp.sleeping), words(gfp.atomic), re.compile(rf"~\s*\(?\s*({cleared})\b")


def gfp_may_sleep(gfp: Gfp, text: str, blocks: bool | None = None) -> bool | None:
    """True if the mask allows direct reclaim, False if it cannot, None if unknown."""
    if blocks is not None:
        return blocks
    sleeping, atomic, cleared = _patterns(gfp)
    if cleared.search(text):
        return False
    if sleeping.search(text):
        return True
    if atomic.search(text):
        return False
    return None
