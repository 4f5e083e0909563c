"""rcu-unbalanced: read-side lock and unlock that do not pair on some path."""

from __future__ import annotations

from analyzer.engine.exceptions import exception
from analyzer.engine.state import UNKNOWN
from analyzer.ir import Rule
from checkers.base import Checker, Slot, register

# constants named in a branch condition: the flags a dual-mode section follows
# how each effect is named, annotated and described
_NAMES = {"enters": ("acquires", "trylock"), "enters_if": ("trylock", "acquires"),
          "exits": ("releases",), "borrows": ("releases", "acquires"), "dual": ("acquires",)}
_ANNOTATIONS = {"enters": ("acquires", "cond_acquires"), "enters_if": ("cond_acquires",
                                                                       "acquires"),
                "exits": ("releases",), "borrows": ("must_hold", "releases"),
                "dual": ("acquires", "cond_acquires")}


def _context(flavour: str) -> str:
    """An annotation's context as the source writes it: `RCU`, `&head->srcu`."""
    return "&" + flavour.split(":", 1)[1] if ":" in flavour else flavour.upper()


REACHED_TWO_WAYS = exception(
    "rcu-unbalanced.handle-reached-two-ways", "rcu-unbalanced",
    "a helper leaves an srcu_struct's section named through its parameter, while a "
    "section of another spelling of that family is held",
    """`trans = bch2_trans_get(c)` enters `c->btree_trans_barrier`; `bch2_trans_put(trans)`
    leaves its own `c->btree_trans_barrier`, which is `trans->c->btree_trans_barrier`
    here: one srcu_struct reached through two handles the analysis does not relate
    (sparse matches the two annotations by their text).  A direct srcu_read_unlock() of
    another srcu_struct is still reported.""",
    "rcu_unbalanced_srcu.c:sfs_update", "rcu_unbalanced.c:obj_srcu_wrong_handle")

PARTNER_BY_NAME = exception(
    "rcu-unbalanced.partner-by-name", "rcu-unbalanced",
    "a release by a helper that pairs by name with a lock helper this unit only declares",
    """`if (tcp_sigpool_start(id, &c)) goto out; ... tcp_sigpool_end(&c);`:
    tcp_sigpool_start() is defined in another file, so the analysis cannot see that it
    takes RCU-bh on success; its name says it takes a lock (kernel naming:
    `*_start`/`*_begin`/`*_lock`, partnered by `*_end`/`*_unlock`), and a releaser of the
    same stem called after it is taken to release what it took.  A release after a call
    whose name pairs with nothing is still reported.""",
    "rcu_unbalanced_errno.c:hpool_use_remote", "rcu_unbalanced_errno.c:hpool_use_unnamed")


@register
class RcuUnbalanced(Checker):
    """
    ## What it finds
    A read-side section (`rcu_read_lock()`, `_bh`, `_sched`, `srcu_read_lock()` by
    its `srcu_struct`) that is still held when the function returns on some path but
    not on others; an unlock on a path where no matching lock is held (a double
    unlock, or a lock taken only in one branch); an unlock of the wrong flavour
    (`rcu_read_lock()` … `rcu_read_unlock_bh()`); an `srcu_read_unlock()` on a
    different `srcu_struct` than the lock.

    A function whose section outlives its return — held on return (a lock helper such
    as `folio_memcg_lock()`), the caller's released (its partner), held exactly when
    it returns true or an object rather than NULL or an error pointer (trylock-style,
    a seq_file `->start()`), or held when a flag says so (a dual-mode walk) —
    is accepted only with evidence: the API model, a sparse annotation
    (`__acquires(RCU)`, `__releases(RCU)`, `__must_hold(RCU)`), the kernel's naming
    (`*_lock`/`*_unlock`, `*_begin`/`*_end`, `*_start`/`*_stop`, `*trylock*`), or an
    analysed caller that uses it so (releases what it took, calls it inside a
    section, releases under the same flag). Without evidence the imbalance is
    reported once, in the function where it starts; its callers are not reported
    again for it.

    ## Why is this bad
    A section left held makes every later grace period wait for a reader that never
    ends: `synchronize_rcu()` hangs, memory freed by `call_rcu()` is never reclaimed,
    and with PREEMPT_RCU the task's nesting count is corrupted. An unlock without a
    lock ends a section someone else relied on. The flavours differ in what they
    disable (BH, preemption), so a mismatched pair leaves BH or preemption disabled.

    ## Example
    ```c
    rcu_read_lock();
    pos = rcu_dereference(head->first);
    if (!pos)
            return -ENOENT;             /* returns with rcu_read_lock() held */
    ```

    ## Use instead
    Leave the section on every path, typically through a common exit label, or use
    `guard(rcu)()` / `scoped_guard(rcu)` so the compiler ends it at scope exit.
    """

    rule = Rule(
        "rcu-unbalanced", "RcuUnbalanced",
        "RCU read-side lock and unlock do not pair on some path",
        level="warning", precision="high", cwe=("CWE-667", "CWE-764", "CWE-765"),
        tags=("concurrency", "rcu", "correctness"),
        path=("branch", "section"),
    )

    # what earlier branches had established when the outermost section was entered
    slot = Slot(frozenset(), frozenset.intersection)

    def __init__(self, run) -> None:
        super().__init__(run)
        self.enters: set[str] = set()
        self.released_ok: set[tuple] = set()
        # unlocks of a section this function took itself (not the caller's, re-taken)
        self.released_own: set[tuple] = set()
        self.underflows: dict[tuple, list] = {}
        self.returns: list[tuple] = []
        self.asserted: set[str] = set()
        # callees nothing is known of but a name that says they take a lock
        self.unknown_acquirers: set[str] = set()

    # --- events -----------------------------------------------------------------------
    def on_section_enter(self, st, ev, fkey):
        if ev is not None:
            self.enters.add(fkey)
        if st.depth(fkey) == 1 and not any(d > 0 for k, d in st.held if k != fkey):
            return self.put(st, st.truths)
        return None

    def on_call(self, st, ev, fm) -> None:
        if fm is None:
            if ev.callee and not ev.discarded and (
                    self.model.named_as(ev.callee, "acquires") or
                    self.model.named_as(ev.callee, "trylock")):
                # `if (tcp_sigpool_start(id, &c))`, defined in a file not analysed: named
                # as a lock, and its result says whether it took it (a plain
                # `rtnl_lock();` says nothing of a read-side section)
                self.unknown_acquirers.add(ev.callee)
            return
        if fm.asserts:
            self.asserted.add(fm.asserts)
        # a helper that releases (or borrows) its caller's section, called inside one:
        # this caller is its partner
        fam = fm.exit or fm.releases_caller
        if fm.inferred and fam and ev.callee:
            fkey = self.run.flavours.key(fam, self.run.handle_of(ev, fm))
            if st.depth(fkey) != 0:  # held here (or on some of the paths merged here)
                self.partner(self.run.context.resolve(ev.callee), fam)
        # a function passed by address may run with, or leave, a section for this one
        for a in ev.args:
            if a.kind == "func":
                node = self.run.context.resolve(a.text)
                if node:
                    self.run.emit(self.rule, ("passes", self.run.context.node, node))

    def on_section_exit(self, st, ev, fkey) -> None:
        fl = self.run.flavours
        if fkey in fl.implicit:
            return
        d = st.depth(fkey)
        if d == UNKNOWN:
            return
        if d > 0:
            self.released_ok.add((ev.loc, fkey))
            if fkey not in st.borrowed:
                self.released_own.add((ev.loc, fkey))
            # releasing what a helper took makes this function the helper's partner
            self.partner(st.opener(fkey), fl.family(fkey))
            if fkey in st.borrowed or st.opener(fkey) is not None:
                # a section another function took, released under a flag: a partner for
                # one held under it (a function's own section under a flag pairs nothing)
                for token in _flags(st.truths, self.run.cond_named):
                    self.run.emit(self.rule, ("released-under", token, fl.family(fkey)))
            return
        other = fl.mismatched(st, fkey)
        fm = self.run.model_for(ev.callee) if ev.callee else None
        if other is not None and fm is not None and fm.handle_path and \
                fl.family(fkey) == fl.family(other) and self.run.allows(REACHED_TWO_WAYS):
            # a helper's section named through its parameter (`trans->c->barrier` for its
            # `c->barrier`): one object reached two ways is not told apart here
            return
        if other is not None:
            origin = st.origin(other)
            where = f" entered at line {origin.line}" if origin else ""
            if fl.family(fkey) == fl.family(other) and fl.family(fkey) in fl.handled:
                msg = (f"{ev.callee}() releases {fkey.split(':', 1)[-1]} but the "
                       f"{fl.name(fl.family(other))} section held here{where} is on "
                       f"{other.split(':', 1)[-1]}")
            else:
                msg = (f"{ev.callee}() ends the {fl.name(other)} section{where}: "
                       f"flavour mismatch, expected {fl.unlock(other)}")
            self.report(ev.loc, msg, st, obj=fkey)
            return
        # the caller's section: released under a flag, it pairs with one held under it
        for token in _flags(st.truths, self.run.cond_named):
            self.run.emit(self.rule, ("released-under", token, fl.family(fkey)))
        if ev.callee and self.model.fn(ev.callee) is None:
            # released by an analysed helper: this function's effect is the helper's
            self.inherit(self.run.context.resolve(ev.callee), fl.family(fkey))
        self.underflows.setdefault((ev.loc, fkey), []).append((st, ev))

    def on_return(self, st, ev) -> None:
        self.returns.append((ev, st, self.run.return_value(st, ev.value)))

    def on_end(self, exit_states) -> None:
        if self.check_contract():
            return
        self.check_annotations()
        self.check_underflows()
        self.check_exits()

    def check_annotations(self) -> None:
        """A function declared `__acquires(RCU)` must return holding the section it
        acquires, and one declared `__releases(RCU)` must release its caller's: seq_file
        calls `->stop()` after every `->start()`, whatever it returned.  An error return
        (`return ERR_PTR(-ENOENT);`) that released the section is the failure
        convention, not a breach."""
        fl = self.run.flavours
        kinds = {}
        for kind, flavour in self.fn.annotations:
            kinds.setdefault(flavour, set()).add(kind)
        for flavour, ks in kinds.items():
            fkey = fl.key(flavour)
            # `__acquires(RCU)` on an rcu_read_lock_sched() helper: one RCU since v5.0
            keys = fl.vanilla if fkey in fl.vanilla else {fkey}
            if ks == {"acquires"}:
                for ev, st, ret in self.returns:
                    if all(_net(st, k) == 0 for k in keys) and \
                            st.depth(fkey) != UNKNOWN and not (ret is not None and ret < 0):
                        self.report(ev.loc, f"{self.fn.name}() returns without the "
                                    f"{fl.name(fkey)} section here, but it is declared "
                                    f"__acquires({_context(flavour)})", st, obj=fkey)
            elif ks == {"releases"}:
                for ev, st, _ in self.returns:
                    # a seq_file `->stop(seq, v)` with v NULL: the walk's last step
                    # already left the section (`if (!v) …; else rcu_read_unlock();`)
                    ended = any(st.truth(p) is False for p in self.fn.params)
                    if st.depth(fkey) != UNKNOWN and not ended and not any(
                            k in st.borrowed and st.depth(k) == 0 for k in keys):
                        self.report(ev.loc, f"{self.fn.name}() returns still holding its "
                                    f"caller's {fl.name(fkey)} section here, but it is "
                                    f"declared __releases({_context(flavour)})", st, obj=fkey)

    def check_contract(self) -> bool:
        """A function the model describes as a lock or unlock helper must be one.

        Its body is checked against that entry (folio_memcg_lock() must return holding
        RCU on every path); True when the model describes it.
        """
        fm = self.model.fn(self.fn.name)
        if fm is None or not (fm.enter or fm.exit):
            return False
        fl = self.run.flavours
        for ev, st, ret in self.returns:
            if fm.enter and not fm.exit:
                fkey = fl.key(fm.enter)
                d = _net(st, fkey)
                if d == UNKNOWN:
                    continue
                if not fm.enter_if and d == 0:
                    self.report(ev.loc, f"{self.fn.name}() returns without the "
                                f"{fl.name(fkey)} section here, but the API model says it "
                                "returns holding it", st, obj=fkey)
                elif fm.enter_if and ret is not None and \
                        ((ret == 0) if fm.enter_if == "zero" else (ret != 0)) != (d > 0):
                    when = "0" if fm.enter_if == "zero" else "true"
                    self.report(ev.loc, f"{self.fn.name}() returns {ret} "
                                f"{'without' if d == 0 else 'holding'} the {fl.name(fkey)} "
                                "section here, but the API model says it holds it exactly "
                                f"when it returns {when}", st, obj=fkey)
            if fm.exit and not fm.enter:
                fkey = fl.key(fm.exit)
                if st.depth(fkey) != UNKNOWN and not (fkey in st.borrowed
                                                      and st.depth(fkey) == 0):
                    self.report(ev.loc, f"{self.fn.name}() returns without releasing its "
                                f"caller's {fl.name(fkey)} section here, but the API model "
                                "says it releases it", st, obj=fkey)
        return True

    # --- evidence -------------------------------------------------------------------------
    def partner(self, node: str | None, fam: str) -> None:
        if node:
            self.run.emit(self.rule, ("partner", node, fam))

    def inherit(self, node: str | None, fam: str) -> None:
        """This function's section effect comes from helper `node`'s: if this one is
        meant, so is the helper's."""
        if node:
            self.run.emit(self.rule, ("inherits", self.run.context.node, node, fam))

    def evident(self, kind: str, fam: str) -> bool:
        """Does this function's model entry, annotation or name say it has this effect?"""
        fm = self.model.fn(self.fn.name)
        if fm is not None and (fm.enter == fam or fm.exit == fam):
            return True
        if any(k in _ANNOTATIONS[kind] and self.run.flavours.family(f) == fam
               for k, f in self.fn.annotations):
            return True
        if kind == "borrows" and fam in self.asserted:
            return True  # it asserts that its caller holds the section it drops and retakes
        return any(self.model.named_as(self.fn.name, n) for n in _NAMES[kind])

    def effect(self, kind: str, fam: str) -> tuple | None:
        """The condition for reporting an effect this function has: no evidence for it.

        None when the function's own model entry, annotation or name is the evidence;
        otherwise its callers may still show it is meant (decided by `resolve`).
        """
        if self.evident(kind, fam):
            self.run.emit(self.rule, ("evident", self.run.context.node, fam))
            return None
        return ("unverified", self.run.context.node, fam)

    # --- findings -------------------------------------------------------------------------
    def check_underflows(self) -> None:
        fl = self.run.flavours
        for (loc, fkey), entries in sorted(self.underflows.items(), key=lambda e: e[0][0].line):
            st, ev = entries[0]
            name = f"{ev.callee}()"
            if fkey in st.entered:
                self.report(loc, f"{name} with no {fl.name(fkey)} section held: it was "
                            "already left on this path (double unlock)", st, obj=fkey)
            elif (loc, fkey) in self.released_own:
                # the same unlock closes a section on other paths: the lock is conditional
                self.report(loc, f"{name} with no matching lock on this path", st, obj=fkey)
            else:
                # the caller's section, released for good or to be taken again
                fam = fl.family(fkey)
                self.run.emit(self.rule, ("releases-out", self.run.context.node, fam))
                retaken = any(_net(s, fkey) == 0 and s.depth(fkey) > 0
                              for _, s, _ in self.returns)
                cond = self.effect("borrows" if retaken else "exits", fam)
                if cond is None:
                    continue
                if _stem(ev.callee) in {_stem(a) for a in self.unknown_acquirers} and \
                        self.run.allows(PARTNER_BY_NAME):
                    continue
                # released under a flag that another function returns holding it under
                tokens = _flags(st.truths, self.run.cond_named)
                flag = (("no-flag-partner", self.run.context.node, tokens, fam,
                         "held-under"),) if tokens else ()
                self.report(loc, f"{name} releases an {fl.name(fkey)} section that "
                            f"{self.fn.name}() never entered, and nothing shows that its "
                            "callers hold one (no annotation such as __releases(RCU), "
                            "no model entry, no analysed caller calling it inside a "
                            "section)", st, obj=fkey, conditions=(cond, *flag))

    def check_exits(self) -> None:
        fl = self.run.flavours
        keys = {k for _, st, _ in self.returns for k, d in st.held if d > 0}
        for fkey in sorted(keys):
            if fkey in fl.implicit:
                continue
            fam = fl.family(fkey)
            # net nesting as the caller sees it: a section borrowed from the caller and
            # taken again is the caller's own
            held = [(ev, st, r) for ev, st, r in self.returns if _net(st, fkey) > 0]
            free = [(ev, st, r) for ev, st, r in self.returns if _net(st, fkey) == 0]
            if not held:
                continue
            node = self.run.context.node
            self.run.emit(self.rule, ("holds-out", node, fam))
            mine = ("unverified", node, fam)
            releases_itself = any(k == fkey for _, k in self.released_ok)
            if not free and not releases_itself:
                # held on every return: a lock helper, if anything says so
                self.unexplained(held, fkey, "enters", "on every path")
                continue
            if free and _explained_by_return(held, free):
                self.unexplained(held, fkey, "enters_if", "exactly when it returns true")
                continue
            tokens = _explaining_flags(held, free, self.slot_index, self.run.cond_named)
            if free and tokens:
                for token in tokens:
                    self.run.emit(self.rule, ("held-under", token, fam))
                first = min(held, key=lambda h: h[0].loc.line)
                ev, st, _ = first
                cond = ("no-flag-partner", self.run.context.node, tokens, fam,
                        "released-under")
                self.report(ev.loc, f"{self.fn.name}() returns with the {fl.name(fkey)} "
                            f"section{_entered(st, fkey)} still held when "
                            f"{' or '.join(tokens)} is set, and no analysed function "
                            "releases it under that flag", st, obj=fkey,
                            conditions=(cond, mine, *self.opened(st, fkey)))
                continue
            if releases_itself or not any(fl.family(k) == fam for k in self.enters):
                for ev, st, _ in held:
                    self.report(ev.loc, f"{self.fn.name}() returns with the {fl.name(fkey)} "
                                f"section{_entered(st, fkey)} still held on this path", st,
                                obj=fkey, conditions=(mine, *self.opened(st, fkey)))
            else:
                for ev, st, _ in free:
                    self.report(ev.loc, f"{self.fn.name}() returns without the "
                                f"{fl.name(fkey)} section here but holding it on other "
                                "paths", st, obj=fkey, conditions=(mine,))

    def opened(self, st, fkey) -> tuple:
        """A section a helper opened is this function's imbalance only if the helper's
        effect stands; otherwise it is reported where it starts, in the helper."""
        opener = st.opener(fkey)
        if not opener:
            return ()
        fam = self.run.flavours.family(fkey)
        self.inherit(opener, fam)
        return (("verified", opener, fam),)

    def unexplained(self, held, fkey, kind: str, when: str) -> None:
        fl = self.run.flavours
        ev, st, _ = min(held, key=lambda h: h[0].loc.line)
        cond = self.effect(kind, fl.family(fkey))
        if cond is None:
            return
        self.report(ev.loc, f"{self.fn.name}() returns with the {fl.name(fkey)} section"
                    f"{_entered(st, fkey)} still held {when}, and nothing says it is meant "
                    "to (no annotation such as __acquires(RCU), no model entry, no "
                    "analysed caller that releases it)", st, obj=fkey,
                    conditions=(cond, *self.opened(st, fkey)))

    # --- the whole program ------------------------------------------------------------------
    @classmethod
    def resolve(cls, findings, facts):
        """Drop what the program shows to be meant, and what a helper's own report covers.

        A helper's effect is meant when its own model entry, annotation or name says so;
        when a caller uses it so (releases what it took, calls it inside a section); when
        a function with the same effect inherited from it is meant; when it releases (or
        holds) the section under a flag that another function holds (or releases) it
        under; or when it is passed by address to a function whose unexplained release
        (or hold) it pairs with.
        """
        verified = {(f[1], f[2]) for _, f in facts if f[0] in ("partner", "evident")}
        holds = {(f[1], f[2]) for _, f in facts if f[0] == "holds-out"}
        releases = {(f[1], f[2]) for _, f in facts if f[0] == "releases-out"}
        passes = {(f[1], f[2]) for _, f in facts if f[0] == "passes"}
        for c, h in passes:
            for fam in {f for _, f in holds | releases}:
                if ((h, fam) in holds and (c, fam) in releases) or \
                        ((h, fam) in releases and (c, fam) in holds):
                    verified |= {(h, fam), (c, fam)}
        flags = {(f[0], f[1], f[2], node) for node, f in facts
                 if f[0] in ("released-under", "held-under")}
        # a release (or hold) that a partner under the same flag explains is meant, and so
        # is the helper it comes from (namei's try_to_unlazy(), called in RCU mode)
        partner_of = {"released-under": "held-under", "held-under": "released-under"}
        verified |= {(who, fam) for what, tok, fam, who in flags
                     if any((partner_of[what], tok, fam) == (w, t, f) and o != who
                            for w, t, f, o in flags)}
        inherits = [(f[1], f[2], f[3]) for _, f in facts if f[0] == "inherits"]
        changed = True
        while changed:
            changed = False
            for c, h, fam in inherits:
                if (c, fam) in verified and (h, fam) not in verified:
                    verified.add((h, fam))
                    changed = True

        def stands(cond) -> bool:
            kind = cond[0]
            if kind == "unverified":
                return (cond[1], cond[2]) not in verified
            if kind == "verified":
                return (cond[1], cond[2]) in verified
            if kind == "no-flag-partner":
                # no other function holds or releases the section under the same flag
                _, node, tokens, fam, partner = cond
                return not any(what == partner and tok in tokens and f == fam and who != node
                               for what, tok, f, who in flags)
            return True

        return [f for f in findings if all(stands(c) for c in f.conditions)]


def _stem(name: str | None) -> str:
    """`tcp_sigpool_end` → `tcp_sigpool`: what a lock/unlock pair's names share."""
    return name.rsplit("_", 1)[0] if name and "_" in name else ""


def _flags(truths, named) -> tuple[str, ...]:
    """The named constants of the conditions known true here (`nd->flags & LOOKUP_RCU`)."""
    return tuple(sorted({t for k, v in truths if v for t in named.get(k, ())}))


def _entered(st, fkey: str) -> str:
    origin = st.origin(fkey)
    return f" entered at line {origin.line}" if origin else ""


def _net(st, fkey: str) -> int:
    d = st.depth(fkey)
    return d - 1 if d > 0 and fkey in st.borrowed else d


def _explaining_flags(held, free, slot: int, named) -> tuple[str, ...]:
    """The flags a section follows: held exactly when a tested condition naming one holds.

    Dual-mode code (namei's RCU walk) takes RCU on one setting of a flag and returns
    holding it for a partner that tests the same flag (`nd->flags & LOOKUP_RCU`).
    Only conditions under which the section was taken count, and only those that name
    a constant the partner can test too.
    """
    common = None
    for _, st, _ in held:
        keys = {k for k, v in st.truths if (k, v) in st.slots[slot]}
        common = keys if common is None else common & keys
    for key in sorted(common or ()):
        hv = {v for _, st, _ in held for k, v in st.truths if k == key}
        fv = {v for _, st, _ in free for k, v in st.truths if k == key}
        tokens = tuple(sorted(set(named.get(key, ()))))
        if len(hv) == 1 and len(fv) <= 1 and hv != fv and tokens:
            return tokens
    return ()


def _explained_by_return(held, free) -> bool:
    """Trylock-style: the return value says whether the section is held.

    A non-constant return on the held paths against NULL/0/false (or an error
    pointer) on the others is the "returns the locked object or NULL" shape.
    """
    hr = {r for _, _, r in held}
    fr = {r for _, _, r in free}
    if None in fr:
        return False
    if None in hr:
        # (an error the held paths return too says nothing of the section)
        return all(r <= 0 for r in fr) and all(r is None or r > 0 for r in hr)
    # true/1 (or an object known not NULL) with the section held, false/0 (or an error)
    # without; or 0 (success) held and -errno not
    held_true = all(r > 0 for r in hr) and all(r <= 0 for r in fr)
    held_false = all(r == 0 for r in hr) and all(r < 0 for r in fr)
    return held_true or held_false
