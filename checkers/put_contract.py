"""The callee side of a put: a function declared to drop its argument's reference.

A caller believes the declaration at every call (the model's `put`, the kernel's
naming convention `foo_put(obj)`), so a put function that returns without releasing
leaks on that path for every caller.  The declaration is checked against the body:
on each return where the object is not NULL, an error pointer, or the caller's other
handle (`if (prev && prev != root) css_put(&prev->css)`), and where no state of the
object's own says it is not counted (`if (css->flags & CSS_NO_REF) return;`, a task
already completed), the body must have released it: put it, decremented its counter,
freed it, or handed it to a callee that keeps it.  A function declared
only by its name must show that it is a put on some path of its own; a model entry
is authoritative.  Part of ref-leak, which owns the slot the marks live in.
"""

from __future__ import annotations

from dataclasses import dataclass

from analyzer.engine import lifetimes

# the slot's marks, next to a parameter: this path released it; on this path it holds
# no object of the caller's (NULL, an error pointer, or equal to another parameter)
RELEASED = "\0released"
NONE = "\0none"


@dataclass
class Exit:
    state: object
    loc: object
    released: frozenset[str]
    none: frozenset[str]


def declared(run) -> tuple[str | None, str]:
    """The parameter the function is declared to put, and by what: its model entry
    (authoritative) or its name (then the body must show the put on some path)."""
    fn, model = run.fn, run.model
    own = model.fn(fn.name)
    if own is not None and not own.inferred:
        if own.put is not None and own.put < len(fn.params) and not own.put_maybe:
            return fn.params[own.put], "model"
        return None, ""
    if model.names_a_put(fn.name) and fn.params and \
            not (len(fn.params) > 2 or fn.returns_ptr):
        # (shaped as a put: the object and at most a count, no pointer back; a
        # `bpf_sk_storage_diag_put(diag, sk, skb, type, &size)` writes data, as the
        # lowering reads a callee of that shape)
        return None, "name"
    return None, ""


def released_params(run, st, ev, fm) -> set[str]:
    """The parameters a call releases: puts, frees, or keeps (consumes) them."""
    if fm is None or not _shown(run, ev.callee):
        return set()
    out = set()
    last = 0 if fm.last else None  # `atomic_dec_and_test(&p->users)`: its counter
    for index in (fm.put, fm.frees, fm.defers_free, fm.consumes, *fm.consumes_more, last):
        if index is None or index >= len(ev.args):
            continue
        a = ev.args[index]
        k = lifetimes.ref_key(st, a, fm) if a.kind != "call" else None
        if k is None and a.kind == "addr" and a.root:
            k = st.alias(a.root) or a.root  # `queue_work(wq, &obj->work)`
        if k in run.fn.params:
            out.add(k)
    return out


def _shown(run, callee: str | None) -> bool:
    """A release the model or an analysed body shows, not a callee's name alone
    (`snd_hda_mixer_amp_volume_put(kcontrol, ucontrol)` writes a control's value)."""
    if not callee:
        return False
    return run.model.fn(callee) is not None or (
        run.lookup is not None and run.lookup(callee) is not None)


def none_on_branch(run, st, subject, outcome) -> set[str]:
    """Parameters this branch shows hold no object the caller gave a reference on."""
    params = run.fn.params
    if subject.kind == "var" and subject.text in params and not outcome:
        return {subject.text}
    if subject.is_static in params and outcome:
        return {subject.is_static}  # `idmap == &nop_mnt_idmap`: a static object, uncounted
    root = st.alias(subject.root) or subject.root if subject.root else None
    if subject.kind != "var" and root in params and not _decided(run, subject):
        # a state of the object's own decides (`if (css->flags & CSS_NO_REF)`,
        # `atomic_read(&s->refcnt) <= 0`, `e->state == 3`)
        return {root}
    err = run.err_tested(st, subject, outcome)
    if err in params:
        return {err}  # `IS_ERR_OR_NULL(p)`
    return set()


def _decided(run, subject) -> bool:
    """The test is the put itself (`refcount_dec_and_test(&s->ref)`) or an error test,
    whose outcomes say nothing of whether the caller's reference was counted."""
    if subject.kind != "call" or subject.tmp is None:
        return False
    fm = run.calls.get(subject.tmp, (None, None))[1]
    return fm is not None and (fm.err_test is not None or fm.put is not None or fm.last
                               or fm.tryget is not None)


def broken(run, exits: list[Exit], param: str | None, by: str):
    """(exit, parameter) pairs where the declared put did not happen."""
    if by == "":
        return []
    if by == "name":
        # the body shows which parameter it puts, on some return of its own
        shown = set().union(*(e.released for e in exits)) if exits else set()
        if len(shown) != 1:
            return []
        param = next(iter(shown))
    out = []
    for e in exits:
        st = e.state
        if param in e.released or param in e.none or st.merged:
            continue
        if st.truth(param) is False or st.const(param) == 0:
            continue
        if st.ret is not None and st.ret < 0:
            continue  # an error return: the caller keeps its reference
        out.append((e, param))
    return out
