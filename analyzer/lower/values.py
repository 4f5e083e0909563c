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
    path = access_path(t[1:] if kind == "addr" else t) if kind in ("addr", "var", "field") \
        else None
    return Val(t, kind, root=root, path=path)


def access_path(t: str) -> tuple[str, ...] | None:
    """The steps after the root of `a->b.c[i]` as `Val.path` has them (`("->b", ".c",
    "[]")`), or None when the text is not a root followed by members and subscripts."""
    t = t.strip()
    if t.startswith("("):  # `(p)->f`: a parenthesised root
        close = t.find(")")
        if close < 0 or not IDENT.fullmatch(t[1:close].strip()):
            return None
        t = t[1:close].strip() + t[close + 1:]
    m = IDENT.match(t)
    if m is None:
        return None
    steps: list[str] = []
    i, n = m.end(), len(t)
    while i < n:
        if t[i].isspace():
            i += 1
            continue
        if t[i] == "[":
            depth = 0
            for j in range(i, n):
                depth += {"[": 1, "]": -1}.get(t[j], 0)
                if depth == 0:
                    break
            else:
                return None
            steps.append("[]")
            i = j + 1
            continue
        sep = "->" if t.startswith("->", i) else "." if t[i] == "." else None
        if sep is None:
            return None
        i += len(sep)
        while i < n and t[i].isspace():
            i += 1
        name = IDENT.match(t, i)
        if name is None:
            return None
        steps.append(sep + name.group(0))
        i = name.end()
    return tuple(steps)


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


