"""Values spelled as text: a macro's arguments become `Val`s as the lowering spells them.

A recognised macro (`rcu_dereference(p)`, `kfree_rcu(obj, rcu)`) hides its
expansion, so its arguments are known only as tokens; they must normalise to the
same `Val` the structural lowering gives the same expression elsewhere.
"""

from __future__ import annotations

import re

from analyzer.ir import Val

IDENT = re.compile(r"[A-Za-z_]\w*")
_CAST_PREFIX = re.compile(r"^\((?:const\s+|volatile\s+|struct\s+|union\s+|unsigned\s+)*\w+\s*\**\)")
_CONST_NAMES = {"true": 1, "false": 0, "NULL": 0}


def val_from_text(text: str) -> Val:
    """A `Val` for a macro argument, spelled as the structural lowering spells it."""
    t = text.strip()
    while t.startswith("(") and t.endswith(")") and _balanced(t[1:-1]):
        t = t[1:-1].strip()
    t = _CAST_PREFIX.sub("", t).strip()
    if t in _CONST_NAMES:
        return Val(t, "null" if t == "NULL" else "const", const=_CONST_NAMES[t])
    if re.fullmatch(r"-?\d+[uUlL]*", t):
        return Val(t, "const", const=int(t.rstrip("uUlL")))
    m = IDENT.search(t)
    root = m.group(0) if m else None
    if t.startswith("&"):
        kind = "addr"
    elif IDENT.fullmatch(t):
        kind = "var"
    elif "->" in t or "." in t or "[" in t:
        kind = "field"
    else:
        kind = "other"
    return Val(t, kind, root=root)


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


