"""Path notes, rendered from the reported path when a finding is made.

A path's state keeps its steps as a chain (`state.Step`); a report walks it back and
says, in order and once each, the steps that bear on the finding: the branch
decisions as assumptions a reader checks against the source ("`info` is not NULL"),
and the section and reference events of the kinds its rule is about (a leak's notes
name the references taken and dropped on its object, not the read-side sections the
path passed through).  Tests inside a macro's expansion are not told: the loop the
macro writes is ("entering the loop `for_each_set_bit(...)`").
"""

from __future__ import annotations

from analyzer.engine.lifetimes import is_result
from analyzer.engine.state import Step
from analyzer.ir import Cond, Loc

NOTES_MAX = 16   # the last steps of a long path; the events on the finding's object stay
ALL_KINDS = ("branch", "section", "ref")


def path_notes(last: Step | None, kinds: tuple[str, ...], at: Loc, obj: str | None = None,
               extra: list[tuple[Loc, str]] | None = None) -> list[tuple[Loc, str]]:
    """The notes of a finding at `at` reached by the path ending in `last`."""
    steps = last.chain() if last is not None else []
    macro_loops = {s.loc for s in steps if s.kind == "branch" and s.cond.loop == "macro"}
    only = obj if obj is not None and any(
        s.kind == "ref" and s.about == obj for s in steps) else None
    out: list[tuple[Loc, str, str]] = []
    for s in steps:
        if s.loc == at or s.kind not in kinds:
            continue
        if s.kind == "ref" and only is not None and s.about != only and \
                not is_result(s.about):
            continue  # another object's (a call's result may be this one, named later)
        if s.kind == "branch":
            if s.loc in macro_loops and s.cond.loop != "macro":
                continue  # a test inside the expansion of the loop macro written here
            text = branch_note(s.cond, s.outcome)
        else:
            text = s.text
        note = (s.loc, text, s.kind)
        # a step said once: the same expression tested twice in a row (a macro whose
        # expansion tests inside before the test the source writes) is one assumption,
        # the last one's
        if out and _step(out[-1]) == _step(note):
            out[-1] = note
        else:
            out.append(note)
    out += [(loc, text, "extra") for loc, text in extra or []]
    if len(out) > NOTES_MAX:
        # the long path's last steps, and the events on the object from before them
        cut = [n for n in out[:-NOTES_MAX] if n[2] != "branch"]
        out = cut[-4:] + out[-NOTES_MAX:]
    return [(loc, text) for loc, text, _ in out]


def branch_note(cond: Cond, outcome: bool) -> str:
    """The assumption a path makes at a test, as a reader checks it against the source:
    `info` is not NULL (whatever `if (!info)` or `if (info)` wrote around it)."""
    text = _short(cond.text)
    # the branch is on the truth of the subject; the text may show its negation
    truth = outcome != cond.negated
    if cond.what == "case":
        # (a switch's case label, as the source writes it)
        return f"`case {text}:` {'is taken' if truth else 'is not taken'}"
    if cond.subject.kind == "call":
        said = {"ptr": ("returns an object", "returns NULL"),
                "bool": ("returns true", "returns false"),
                "int": ("returns non-zero", "returns 0")}.get(cond.what,
                                                              ("is true", "is false"))
    else:
        said = {"ptr": ("is not NULL", "is NULL"), "int": ("is not 0", "is 0")}.get(
            cond.what, ("is true", "is false"))
    fact = f"`{text}` {said[0] if truth else said[1]}"
    way = "entering" if outcome == cond.enters else "leaving"
    if cond.loop == "macro":
        return f"{way} the loop `{text}`"
    if cond.loop:
        return f"{way} the loop: {fact}"
    return fact


def _step(note: tuple) -> tuple:
    """What a note is about: its place, and the expression a branch note names."""
    loc, text = note[0], note[1]
    return (loc, text.split("`")[1]) if text.startswith("`") else (loc, text)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."
