"""What a function's own code says about its callees' results.

A result the function releases on some path is a reference it owns on every path:
`neigh = __neigh_lookup(...); ... neigh_release(neigh);` tells a reviewer that the
lookup returns a counted reference, whatever file defines it and whether or not the
model names it.  The callee's contract does not depend on the path, so every call
of it in this function returns one, and a path that lets such a result go without
the release leaks it (the inconsistent-release pattern behind most error-path
leaks that upstream fixes).

The evidence is a put whose argument, at the put, can only hold results of that
callee (or NULL): reaching definitions over the CFG decide it.  A call given the
variable's address (`lookup_net(req, &net)`) may store anything there: it is a
definition of the variable with no known producer.  A callee given the address of a
structure on the caller's stack (`drm_connector_list_iter_next(&iter)`) keeps its
state there, and with it what its result needs: its result is borrowed from that
structure, and a put of it releases some other reference.  A function that also
gets on the variable pairs its put with its own get, and one that compares the variable
with another pointer may put it for a reference taken under the other name: neither
says anything of the callee.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from analyzer.engine.exceptions import exception
from analyzer.engine.lifetimes import obj_key
from analyzer.engine.state import State
from analyzer.ir import Assign, Call, Dead, Function, Loc, Val
from analyzer.model import FnModel

_EMPTY = State()

PAIRED_GET = exception(
    "ref-leak.belief-paired-get", "ref-leak",
    "a put of a variable also given to a call named like a get shows nothing of the "
    "callee that produced it",
    """`n = tnode_peek(); tnode_hold(n); ... tnode_put(n);`: the put pairs with the hold,
    so the peek need not return a reference.  Kernel gets are named *_get, get_*,
    *_hold, *_grab, *_inc (Documentation/core-api/kref.rst; sock_hold(), dev_hold(),
    get_device()).  A get so named whose body also puts (`get_hwpoison_page(p)` drops
    the reference it took when the page turns out busy) is such a get, not a release;
    and a put through another name of the same object (`folio = page_folio(p);
    folio_put(folio)`) pairs with the get as well.""",
    "ref_leak_believed.c:tnode_touch", "ref_leak_believed.c:tnode_set_flags",
    attributed=False)
COMPARED = exception(
    "ref-leak.belief-compared", "ref-leak",
    "a put of a variable compared with another pointer shows nothing of its producer",
    """`if (cfile_css != css) { css_put(cfile_css); ... }` then `css_put(css)`: where the
    two are equal the put drops the reference taken under the other name
    (memcg_write_event_control()).""",
    "ref_leak_believed.c:tnode_check_current", "ref_leak_believed.c:tnode_refresh",
    attributed=False)


@dataclass(frozen=True)
class Belief:
    """`callee` returns a reference: this function releases one of its results at `put`."""

    callee: str
    put: Loc
    api: str  # the releasing call, `neigh_release()`
    # the function making the release, when it is another one than the function run
    where: str = ""

    def shown(self) -> str:
        """The evidence, as a finding states it."""
        if self.where:
            return (f" (what {self.callee}() returns is released by {self.api} in "
                    f"{self.where}() at line {self.put.line})")
        return f" (released by {self.api} at line {self.put.line} on another path)"


def says_nothing(fm: FnModel | None) -> bool:
    """The model and the callee's body (if analysed) say nothing of what it returns: no
    entry, or a body whose result comes from such a callee (a body that returns a field
    or a container it was given shows a borrowed pointer), or a body read in another file
    whose callees were followed only so far, that shows no reference going with it."""
    if fm is None:
        return True
    return fm.inferred and (fm.returns_opaque or fm.followed) and not (
        fm.returns_ref or fm.returns_pin or fm.returns_rcu or fm.same_object is not None
        or fm.returns_handle
        or fm.get is not None or fm.put is not None or fm.tryget is not None
        or fm.allocates)


def owned_results(fn: Function, model_for: Callable[[str, bool], FnModel | None],
                  puts_inside: Callable[[Call], bool] = lambda ev: False,
                  names_a_get: Callable[[str], bool] | None = None,
                  skip_compared: bool = True) -> dict[str, Belief]:
    """Callees whose results `fn` releases, with the first release that shows it."""
    calls: dict[str, Call] = {}
    defs: list[tuple[str, str | None]] = []   # def id -> (variable, callee or None)
    where: dict[tuple[int, int], list[int]] = {}  # (block, event index) -> def ids
    gets: set[str] = set()
    puts: list[tuple[int, int, str, Call, FnModel]] = []
    made_by: dict[int, tuple[int, int, Call]] = {}  # def id -> where, and the call
    loads: dict[int, str] = {}  # def id -> the field it loads (`sk = skb->sk`)
    for b in fn.blocks:
        for i, ev in enumerate(b.events):
            if isinstance(ev, Call):
                calls[ev.result] = ev
                for var in _written(ev):
                    where.setdefault((b.id, i), []).append(len(defs))
                    defs.append((var, None))
                fm = model_for(ev.callee, ev.not_a_put) if ev.callee else None
                if fm is None and puts_inside(ev):
                    fm = FnModel(ev.callee, put=0, inferred=True)  # `nfs_put_client(clp)`
                named_get = bool(ev.callee and names_a_get and names_a_get(ev.callee) and
                                 ev.args and not ev.gets_other)
                if named_get and (fm is None or fm.put is None or fm.inferred):
                    # (`tnode_hold(n)`: a get by its name, whose put may follow; one whose
                    # body also puts, `get_hwpoison_page(p)`, drops the reference it took
                    # when it fails)
                    k = obj_key(_EMPTY, ev.args[0])
                    if k is not None:
                        gets.add(k)
                if fm is None:
                    continue
                # (a counter in the object incremented, `atomic_inc_not_zero(&av->refs)`,
                # pairs with the put as a get does, whether or not a put elsewhere shows
                # the counter is the object's reference count: engine/counters.py)
                for idx in (fm.get, fm.tryget, fm.counter_inc, fm.counter_tryget):
                    if idx is not None and idx < len(ev.args):
                        k = obj_key(_EMPTY, ev.args[idx])
                        if k is not None:
                            gets.add(k)
                if fm.put is not None and fm.put < len(ev.args) and \
                        not (named_get and fm.inferred):
                    k = obj_key(_EMPTY, ev.args[fm.put])
                    if k is not None and k not in fn.params:
                        puts.append((b.id, i, k, ev, fm))
            elif isinstance(ev, Assign) and ev.target.kind == "var":
                callee = None
                v = ev.value
                if v.kind == "call" and v.tmp in calls and ev.ptr and not v.neg and \
                        calls[v.tmp].on_stack:
                    # `connector = drm_connector_list_iter_next(&iter)`: a callee that
                    # keeps its state in the caller's structure may keep there what the
                    # result needs; the result is borrowed from it
                    callee = ""
                elif v.kind == "call" and v.tmp in calls and ev.ptr and not v.neg:
                    callee = calls[v.tmp].callee
                    made_by[len(defs)] = (b.id, i, calls[v.tmp])
                elif v.is_null:
                    callee = ""  # NULL: no object, no reference
                elif v.kind == "field":
                    loads[len(defs)] = v.text
                where.setdefault((b.id, i), []).append(len(defs))
                defs.append((ev.target.text, callee))
    # a variable compared with another (`if (cfile_css != css)`) may be put for the
    # reference taken under the other name
    compared = {v for b in fn.blocks if b.cond is not None and b.cond.subject.same
                for v in b.cond.subject.same} if skip_compared else set()
    puts = [p for p in puts if p[2] not in gets and p[2] not in compared]
    if not puts:
        return {}
    # `key = key_ref_to_ptr(key_ref)`: a callee that returns its argument passes on
    # the object, and what produced that argument is what the put shows
    passes = {d: a.text for d, (_, _, call) in made_by.items()
              if (a := _passed(call, model_for)) is not None}
    # (`folio = page_folio(p); folio_put(folio)` after a get on `p`: the same pairing)
    got = {defs[d][0] for d, src in passes.items() if src in gets}
    puts = [p for p in puts if p[2] not in got]
    if not puts:
        return {}
    reaching = _reaching(fn, defs, where, {p[2] for p in puts} | set(passes.values()))

    def producers(d: int, depth: int = 0) -> set[str | None]:
        if d not in passes or depth > 3:
            return {defs[d][1]}
        block, index, _ = made_by[d]
        live = reaching(block, index, passes[d])
        return set().union(*(producers(x, depth + 1) for x in live)) if live else {None}

    unlike = _unlike(fn)
    out: dict[str, Belief] = {}
    for block, index, var, ev, _ in puts:
        live = reaching(block, index, var)
        # `if (sk != skb->sk) sock_gen_put(sk);`: not the borrowed one it was loaded as
        live = {d for d in live if loads.get(d) is None or
                (var, loads[d]) not in unlike.get(block, ())}
        callees = set().union(*(producers(d) for d in live)) if live else set()
        if not live or None in callees:
            continue  # the variable may hold something other than a call's result
        for callee in sorted(c for c in callees if c):
            if callee not in out and says_nothing(model_for(callee, False)):
                out[callee] = Belief(callee, ev.loc, f"{ev.callee}()")
    return out


def _written(ev: Call) -> list[str]:
    """The local variables a call is given the address of (`&net`): it may set them."""
    return [a.root for a in ev.args
            if a.kind == "addr" and a.root and a.text == "&" + a.root]


def _unlike(fn: Function) -> dict[int, set[tuple[str, str]]]:
    """Blocks entered only from the branch where a variable differs from a field's
    pointer (`if (sk != skb->sk)`): (variable, field text) for each."""
    into: dict[int, list[set]] = {}
    for b in fn.blocks:
        eq = b.cond.subject.equals if b.cond is not None else None
        for succ, outcome in b.succs:
            differs = eq is not None and outcome is not None and \
                outcome == b.cond.subject.neg
            into.setdefault(succ, []).append({eq} if differs else set())
    return {bid: set.intersection(*facts) for bid, facts in into.items() if facts}


def _passed(call: Call, model_for) -> Val | None:
    """The variable a call returns the object of (`same_object`), if it is one."""
    fm = model_for(call.callee, call.not_a_put) if call.callee else None
    if fm is None or fm.same_object is None or fm.get is not None or \
            fm.same_object >= len(call.args):
        return None
    a = call.args[fm.same_object]
    return a if a.kind == "var" else None


def kept_after(fn: Function, model_for: Callable[[str, bool], FnModel | None],
               puts_inside: Callable[[Call], bool] = lambda ev: False,
               budget: int = 200_000) -> set[tuple[str, str]]:
    """Calls that leave an object with this function: (call result, variable) for each
    call given `variable` from which a put of the same variable can still be reached
    with no new value in between.  A function that releases what it passed after the
    call shows that the callee kept nothing (`err = sock_diag_destroy(sk, ...);
    sock_gen_put(sk);`); a call after which nothing releases it may have consumed it.
    Only paths on which the call did not fail count: a put on its failure branch
    (`file = alloc_file_pseudo(inode, ...); if (IS_ERR(file)) iput(inode);`) says the
    call keeps the object when it succeeds.
    `budget` bounds the events visited in all; past it, the remaining calls are taken
    to have consumed what they were given (fewer reports, never more).
    """
    blocks = {b.id: b for b in fn.blocks}
    put_at: set[tuple[int, int, str]] = set()
    for b in fn.blocks:
        for i, ev in enumerate(b.events):
            if isinstance(ev, Call) and ev.callee:
                fm = model_for(ev.callee, ev.not_a_put)
                if fm is None and puts_inside(ev):
                    fm = FnModel(ev.callee, put=0, inferred=True)  # `ice_put_vf(vf)`
                if fm is not None and fm.put is not None and fm.put < len(ev.args):
                    k = obj_key(_EMPTY, ev.args[fm.put])
                    if k is not None and k not in fn.params:
                        put_at.add((b.id, i, k))
    names = {k for _, _, k in put_at}
    calls = {ev.result: ev for b in fn.blocks for ev in b.events if isinstance(ev, Call)}
    out: set[tuple[str, str]] = set()
    left = [budget]
    for b in fn.blocks:
        for i, ev in enumerate(b.events):
            if not isinstance(ev, Call):
                continue
            for a in ev.args:
                k = obj_key(_EMPTY, a)
                if k in names and (ev.result, k) not in out:
                    failure = _Failure(ev.result, _result_vars(b, i), calls, model_for,
                                       ev.predicate)
                    if _reaches_put(blocks, b.id, i + 1, k, put_at, left, failure):
                        out.add((ev.result, k))
    return out


def _result_vars(block, index: int) -> dict[str, bool]:
    """The variables the call at `index` of `block` assigns its result to, and whether
    each is a pointer (failure is NULL or an error pointer) or not (a non-zero code)."""
    call = block.events[index]
    # (a pointer, or a predicate's bool: false fails)
    return {ev.target.text: ev.ptr or call.predicate for ev in block.events[index + 1:]
            if isinstance(ev, Assign) and ev.target.kind == "var" and ev.value.tmp == call.result}


@dataclass
class _Failure:
    """Which branch of a condition is the call's failure, when it tests its result."""

    tmp: str
    vars: dict[str, bool]
    calls: dict
    model_for: Callable
    predicate: bool = False  # the call returns bool

    def outcome(self, cond) -> bool | None:
        s = cond.subject
        if s.kind == "var" and s.text in self.vars:
            # `if (err)`: non-zero fails; `if (!file)`: NULL fails
            return s.neg if self.vars[s.text] else not s.neg
        if s.kind == "call" and s.tmp == self.tmp:
            # `if (f(x))`: a non-zero code; `if (!is_available(x))`: a predicate's false
            return s.neg if self.predicate else not s.neg
        if s.kind == "call" and s.tmp in self.calls:
            test = self.calls[s.tmp]
            fm = self.model_for(test.callee, False) if test.callee else None
            if fm is not None and fm.err_test is not None and fm.err_test < len(test.args) \
                    and test.args[fm.err_test].text in self.vars:
                return not s.neg  # `IS_ERR(file)` true fails
        if s.op is not None and s.op[2] == 0 and s.op[1] in self.vars:
            if s.op[0] in ("<", "!="):
                return not s.neg
            if s.op[0] == "==":
                return s.neg
        return None


def _reaches_put(blocks, block: int, index: int, var: str, put_at, left: list[int],
                 failure: _Failure) -> bool:
    seen: set[int] = set()
    todo = [(block, index)]
    while todo and left[0] > 0:
        bid, start = todo.pop()
        b = blocks[bid]
        redefined = False
        for i in range(start, len(b.events)):
            left[0] -= 1
            if (bid, i, var) in put_at:
                return True
            ev = b.events[i]
            if (isinstance(ev, Assign) and ev.target.kind == "var" and
                    ev.target.text == var) or (isinstance(ev, Dead) and var in ev.names) \
                    or (isinstance(ev, Call) and var in _written(ev)):
                redefined = True
                break
        if redefined:
            continue
        failed = failure.outcome(b.cond) if b.cond is not None else None
        for s, outcome in b.succs:
            if failed is not None and outcome == failed:
                continue  # the call failed there: it kept nothing, whatever it does
            if s not in seen:
                seen.add(s)
                todo.append((s, 0))
    return False


def _reaching(fn: Function, defs, where, names: set[str]):
    """Reaching definitions of the variables in `names`: a function (block, event
    index, variable) -> the def ids that may give the variable its value there."""
    by_var: dict[str, set[int]] = {}
    for d, (var, _) in enumerate(defs):
        if var in names:
            by_var.setdefault(var, set()).add(d)
    tracked = set().union(*by_var.values()) if by_var else set()

    def transfer(block, upto: int | None, live: frozenset) -> frozenset:
        out = set(live)
        for i, _ in enumerate(block.events[:upto]):
            for d in where.get((block.id, i), ()):
                if d in tracked:
                    out -= by_var[defs[d][0]]
                    out.add(d)
        return frozenset(out)

    blocks = {b.id: b for b in fn.blocks}
    preds: dict[int, list[int]] = {b.id: [] for b in fn.blocks}
    for b in fn.blocks:
        for s, _ in b.succs:
            preds.setdefault(s, []).append(b.id)
    entry_in: dict[int, frozenset] = {b.id: frozenset() for b in fn.blocks}
    exit_out = {b.id: transfer(b, None, frozenset()) for b in fn.blocks}
    todo = list(blocks)
    while todo:
        bid = todo.pop()
        live = frozenset().union(*(exit_out[p] for p in preds.get(bid, ()))) \
            if preds.get(bid) else frozenset()
        if live == entry_in[bid] and bid != fn.entry:
            continue
        entry_in[bid] = live
        new = transfer(blocks[bid], None, live)
        if new != exit_out[bid]:
            exit_out[bid] = new
            todo.extend(s for s, _ in blocks[bid].succs)

    def at(block: int, index: int, var: str) -> set[int]:
        live = transfer(blocks[block], index, entry_in[block])
        return {d for d in live if defs[d][0] == var}

    return at
