"""Facts inferred from the bodies of the functions in the analysed files.

Which parameters a function stores into memory that outlives it (a field reached
through a pointer, a global): a caller that passes a referenced object to such a
function hands the reference over, as `commit_charge(folio, memcg)` does by
writing `folio->memcg_data`.  Which parameters it dereferences: a caller that
passes a pointer whose RCU section has ended to such a function uses it.  The
API model always takes precedence.
"""

from __future__ import annotations

from dataclasses import replace

from analyzer.ir import Assign, Deref, Function
from analyzer.model import ApiModel, FnModel


def stored_params(fn: Function) -> list[int]:
    """Indexes of parameters whose value this function stores beyond its own frame."""
    out: list[int] = []
    locals_ = set()
    for block in fn.blocks:
        for ev in block.events:
            if not isinstance(ev, Assign):
                continue
            target, value = ev.target, ev.value
            if target.kind == "var":
                locals_.add(target.text)
                continue
            if value.neg or value.root not in fn.params or value.root in locals_:
                continue
            if target.kind == "field" and target.root not in fn.params and \
                    target.text.startswith(f"{target.root}."):
                continue  # a field of a local structure
            if target.root == value.root:
                continue
            idx = fn.params.index(value.root)
            if idx not in out:
                out.append(idx)
    return out


def dereferenced_params(fn: Function) -> tuple[int, ...]:
    """Indexes of parameters the function dereferences while they still hold the argument."""
    assigned = {ev.target.text for b in fn.blocks for ev in b.events
                if isinstance(ev, Assign) and ev.target.kind == "var"}
    seen = {ev.ptr.text for b in fn.blocks for ev in b.events
            if isinstance(ev, Deref) and ev.ptr.kind == "var"}
    return tuple(i for i, p in enumerate(fn.params) if p in seen and p not in assigned)


def infer(functions: list[Function], model: ApiModel) -> dict[str, FnModel]:
    """Inferred entries for functions the model does not describe."""
    inferred: dict[str, FnModel] = {}
    for fn in functions:
        if model.fn(fn.name) is not None:
            continue
        stored = stored_params(fn)
        derefs = dereferenced_params(fn)
        if stored or derefs:
            inferred[fn.name] = replace(FnModel(fn.name),
                                        consumes=stored[0] if stored else None, derefs=derefs)
    return inferred
