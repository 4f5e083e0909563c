"""GitHub's `primaryLocationLineHash`: the rolling hash code scanning uses to track
alerts across edits.

Each line's hash covers the first 100 characters from the start of that line,
skipping spaces and tabs, with CR, LF and CRLF all read as LF and the end of the
file marked by one extra character.  Arithmetic is 64-bit two's complement with
wrap-around; the value is printed as unsigned hex.  A hash that occurs more than
once gets a running count: `<hex>:<n>`.  Characters are UTF-16 code units, as in
JavaScript's `charCodeAt`.
"""

from __future__ import annotations

BLOCK_SIZE = 100
MOD = 37
MASK = (1 << 64) - 1
EOF = 65535
_TAB, _SPACE, _LF, _CR = 9, 32, 10, 13


def _units(text: str):
    data = text.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        yield data[i] | (data[i + 1] << 8)


def line_hashes(text: str) -> list[str]:
    """The hash of every line of `text`, in order (line 1 first)."""
    first_mod = pow(MOD, BLOCK_SIZE, 1 << 64)
    window = [0] * BLOCK_SIZE
    line_numbers = [-1] * BLOCK_SIZE
    out: dict[int, str] = {}
    counts: dict[str, int] = {}
    state = {"hash": 0, "index": 0, "line": 0, "start": True, "prev_cr": False}

    def output() -> None:
        value = format(state["hash"] & MASK, "x")
        counts[value] = counts.get(value, 0) + 1
        out[line_numbers[state["index"]]] = f"{value}:{counts[value]}"
        line_numbers[state["index"]] = -1

    def update(current: int) -> None:
        i = state["index"]
        begin = window[i]
        window[i] = current
        state["hash"] = (MOD * state["hash"] + current - first_mod * begin) & MASK
        state["index"] = (i + 1) % BLOCK_SIZE

    def process(current: int) -> None:
        if current in (_SPACE, _TAB) or (state["prev_cr"] and current == _LF):
            state["prev_cr"] = False
            return
        if current == _CR:
            current = _LF
            state["prev_cr"] = True
        else:
            state["prev_cr"] = False
        if line_numbers[state["index"]] != -1:
            output()
        if state["start"]:
            state["start"] = False
            state["line"] += 1
            line_numbers[state["index"]] = state["line"]
        if current == _LF:
            state["start"] = True
        update(current)

    for unit in _units(text):
        process(unit)
    process(EOF)
    for _ in range(BLOCK_SIZE):
        if line_numbers[state["index"]] != -1:
            output()
        update(0)
    return [out[n] for n in sorted(out)]
