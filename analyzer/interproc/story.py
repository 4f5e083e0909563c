"""What a function does to RCU and references inside its body, for the call graph.

A summary says what a function does as its callers see it: shrink_slab() neither
takes nor returns a section, so its summary says nothing of RCU.  A reader of the call
graph wants the story inside: the read-side sections it enters and leaves (flavour and
lines), the references it takes and drops (the API and the object), its grace-period
points (`synchronize_rcu()`, `call_rcu()`, `kfree_rcu()`) and the APIs it calls for
them.  Read off the lowered body, with the API model first and callees' summaries next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analyzer.ir import Call, Function, RcuAccess, Walk
from analyzer.model import ApiModel, FnModel


@dataclass(frozen=True, order=True)
class Step:
    line: int
    # lock, lock-if, unlock, get, tryget, put, ref (returns one), grace, defer, free,
    # read (an RCU-protected pointer loaded), walk (an RCU list walk)
    kind: str
    api: str      # the function called
    what: str     # the flavour of a section, the object of a reference, "" otherwise
    modelled: bool  # the API model says so (an API), rather than a callee's summary


def _steps(ev: Call, m: FnModel, modelled: bool) -> list[Step]:
    line, api = ev.loc.line, ev.callee or ""

    def arg(i: int | None) -> str:
        return ev.args[i].text if i is not None and 0 <= i < len(ev.args) else ""

    out = []
    if m.enter:
        out.append(Step(line, "lock", api, m.enter, modelled))
    if m.enter_if:
        out.append(Step(line, "lock-if", api, m.enter_if, modelled))
    if m.exit:
        out.append(Step(line, "unlock", api, m.exit, modelled))
    for kind, idx in (("get", m.get), ("tryget", m.tryget), ("put", m.put)):
        if idx is not None:
            out.append(Step(line, kind, api, arg(idx), modelled))
    if m.returns_ref and m.get is None and m.tryget is None:
        out.append(Step(line, "ref", api, "", modelled))
    if m.waits_gp or m.grace_period:
        out.append(Step(line, "grace", api, "", modelled))
    if m.defers_free is not None:
        out.append(Step(line, "defer", api, arg(m.defers_free), modelled))
    if m.frees is not None:
        out.append(Step(line, "free", api, arg(m.frees), modelled))
    if m.returns_rcu:
        out.append(Step(line, "read", api, "", modelled))
    return out


def story(fn: Function, model: ApiModel,
          lookup: Callable[[str], FnModel | None]) -> list[Step]:
    """The RCU and reference steps of `fn`, in source order, each once."""
    steps: set[Step] = set()
    for block in fn.blocks:
        for ev in block.events:
            if isinstance(ev, RcuAccess):
                steps.add(Step(ev.loc.line, "read", ev.macro, ev.ptr.text, True))
            elif isinstance(ev, Walk) and not ev.step:
                steps.add(Step(ev.loc.line, "walk", ev.macro, ev.head, True))
            if not isinstance(ev, Call) or not ev.callee:
                continue
            m = model.fn(ev.callee)
            if m is not None:
                steps.update(_steps(ev, m, True))
            else:
                s = lookup(ev.callee)
                if s is not None:
                    steps.update(_steps(ev, s, False))
    return sorted(steps)
