"""Macro uses in the main file, found through libclang's preprocessing record.

Kernel RCU idioms are macros (`rcu_dereference`, `list_for_each_entry_rcu`,
`guard(rcu)`); after expansion the AST shows only statement expressions and
`for` loops whose inner cursors have collapsed extents.  The index maps each
expansion site back to the macro's name and its argument tokens, so later
stages can ask "which macro produced the node at this offset?".
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MacroUse:
    """One macro expansion in the main file."""

    name: str
    line: int
    column: int
    start: int  # byte offsets in the main file
    end: int
    tokens: tuple[str, ...] = field(repr=False, default=())

    def arguments(self) -> list[str]:
        """The macro's arguments as source text, split at top-level commas."""
        if len(self.tokens) < 3 or self.tokens[1] != "(":
            return []
        return [join_tokens(a) for a in split_arguments(self.tokens) if a]


def split_arguments(tokens: tuple[str, ...]) -> list[list[str]]:
    """A use's argument tokens (after `name (`), split at top-level commas."""
    args: list[list[str]] = [[]]
    depth = 0
    for tok in tokens[2:]:
        if tok in "([{":
            depth += 1
        elif tok in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif tok == "," and depth == 0:
            args.append([])
            continue
        args[-1].append(tok)
    return args


def join_tokens(tokens: list[str]) -> str:
    """Source-like text from tokens: a space only between two words."""
    out = ""
    for tok in tokens:
        if out and (out[-1].isalnum() or out[-1] == "_") and (tok[0].isalnum() or tok[0] == "_"):
            out += " "
        out += tok
    return out


def unwrap(uses: list[MacroUse], defs: dict[str, tuple[str, ...]],
           names: set[str]) -> list[MacroUse]:
    """Uses of wrapper macros (the file's own or a header's) as uses of what they wrap.

    `#define xmap_dereference(P) rcu_dereference_protected((P), lockdep_is_held(&m))`
    makes `xmap_dereference(x)` a use of `rcu_dereference_protected((x), ...)`, and
    include/net/sock.h's `sk_for_each_rcu(sk, list)` one of `hlist_for_each_entry_rcu(sk,
    list, sk_node)`: libclang records only the outermost expansion, so without this the
    accessor or walk inside is lost.
    A wrapper counts only when its whole body is one call of a macro in `names`.
    """
    wraps: dict[str, tuple[list[str], list[str]]] = {}
    for name, toks in defs.items():
        params, body = _split_definition(toks)
        if params is None or name in names or len(body) < 3 or body[0] not in names or \
                body[1] != "(" or not _closes_at_end(body[1:]):
            continue
        wraps[name] = (params, body)
    if not wraps:
        return uses
    out = []
    for use in uses:
        spec = wraps.get(use.name)
        if spec is None or len(use.tokens) < 3:
            out.append(use)
            continue
        params, body = spec
        values = split_arguments(use.tokens)
        if len(values) != len(params):
            out.append(use)
            continue
        binding = dict(zip(params, values, strict=True))
        tokens = tuple(t for tok in body for t in binding.get(tok, [tok]))
        out.append(MacroUse(body[0], use.line, use.column, use.start, use.end, tokens))
    return out


def _split_definition(toks: tuple[str, ...]) -> tuple[list[str] | None, list[str]]:
    """A function-like definition's parameter names and body tokens."""
    if len(toks) < 3 or toks[1] != "(":
        return None, []
    try:
        close = toks.index(")", 2)
    except ValueError:
        return None, []
    params = [t for t in toks[2:close] if t != ","]
    if any(not (t.isidentifier() or t == "...") for t in params):
        return None, []
    return params, list(toks[close + 1:])


def _closes_at_end(toks: list[str]) -> bool:
    depth = 0
    for i, tok in enumerate(toks):
        if tok in "([{":
            depth += 1
        elif tok in ")]}":
            depth -= 1
            if depth == 0:
                return i == len(toks) - 1
    return False


class MacroIndex:
    """Macro uses of one file, ordered by position, searchable by offset."""

    def __init__(self, uses: list[MacroUse]):
        self.uses = sorted(uses, key=lambda u: (u.start, -u.end))
        self._starts = [u.start for u in self.uses]
        self._by_start: dict[int, list[MacroUse]] = {}
        self._spans: list[list[int]] | None = None
        self._span_starts: list[int] = []
        for use in self.uses:
            self._by_start.setdefault(use.start, []).append(use)

    def __len__(self) -> int:
        return len(self.uses)

    def __iter__(self):
        return iter(self.uses)

    def at(self, offset: int, name: str | None = None) -> MacroUse | None:
        """The macro use that starts exactly at `offset` (optionally with `name`)."""
        return next((u for u in self._by_start.get(offset, ())
                     if name is None or u.name == name), None)

    def starting_at(self, offset: int) -> list[MacroUse]:
        """Every macro use that starts at `offset`, outermost first."""
        return self._by_start.get(offset, [])

    def within(self, start: int, end: int) -> list[MacroUse]:
        """Macro uses that start inside [start, end)."""
        lo = bisect.bisect_left(self._starts, start)
        hi = bisect.bisect_left(self._starts, end)
        return self.uses[lo:hi]

    def covers(self, offset: int) -> bool:
        """Is `offset` inside a function-like macro use (its arguments or name)?"""
        if self._spans is None:
            spans: list[list[int]] = []
            for u in self.uses:
                if len(u.tokens) <= 1:
                    continue
                if spans and u.start < spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], u.end)
                else:
                    spans.append([u.start, u.end])
            self._spans = spans
            self._span_starts = [a for a, _ in spans]
        i = bisect.bisect_right(self._span_starts, offset) - 1
        return i >= 0 and offset < self._spans[i][1]

    def by_name(self, name: str) -> list[MacroUse]:
        return [u for u in self.uses if u.name == name]
