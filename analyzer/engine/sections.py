"""Read-side flavours as the engine and checkers ask about them, from the model.

A section is keyed by its flavour (`rcu`, `rcu_bh`, `implicit`, ...) and, for
flavours whose sections belong to an object, by that object (`srcu:my_srcu`).
"""

from __future__ import annotations

import copy

from analyzer.engine.state import UNKNOWN, State
from analyzer.model import ApiModel


class Flavours:
    """Which flavours protect what, how they are called, how their keys are formed."""

    def __init__(self, model: ApiModel) -> None:
        self.table = model.flavours
        self.vanilla = model.vanilla
        self.explicit = model.explicit_vanilla
        self.implicit = self.vanilla - self.explicit
        self.handled = frozenset(k for k, f in self.table.items() if f.handle)
        # flavours the function is documented to be entered with (`__must_hold(RCU)`,
        # `__releases(RCU)`): its caller's section, held until it releases it
        self.entry: frozenset[str] = frozenset()

    def entered_with(self, flavours) -> Flavours:
        """These flavours for a function entered holding `flavours`."""
        if not flavours:
            return self
        view = copy.copy(self)
        view.entry = frozenset(flavours) - self.handled
        return view

    def callers(self, st: State, needs: str) -> bool:
        """The caller's section of `needs`, documented held on entry, not released yet."""
        return any(f not in st.borrowed and (f == needs or (
            f in self.vanilla and needs in self.vanilla)) for f in self.entry)

    def key(self, flavour: str, handle: str | None = None) -> str:
        """`srcu` sections are keyed by their srcu_struct: `srcu:my_srcu`."""
        if flavour in self.handled and handle:
            return f"{flavour}:" + handle.replace(" ", "").lstrip("&")
        return flavour

    @staticmethod
    def family(fkey: str) -> str:
        """The flavour of a section key (`srcu:my_srcu` → `srcu`)."""
        return fkey.split(":", 1)[0]

    def name(self, fkey: str) -> str:
        fam = self.family(fkey)
        f = self.table.get(fam)
        display = f.display if f is not None and f.display else fam
        return f"{display} ({fkey[len(fam) + 1:]})" if ":" in fkey else display

    def unlock(self, fkey: str) -> str:
        f = self.table.get(self.family(fkey))
        return f.unlock if f is not None and f.unlock else "its own unlock"

    def lock(self, fkey: str) -> str:
        f = self.table.get(self.family(fkey))
        return f.lock if f is not None and f.lock else f"{fkey} lock"

    # --- questions about a state ---------------------------------------------------------
    def vanilla_depth(self, st: State, explicit_only: bool = False) -> int:
        """Deepest vanilla nesting: UNKNOWN if some flavour is unknown and none is held."""
        return st.held_any(self.explicit if explicit_only else self.vanilla)

    def in_section(self, st: State) -> bool:
        """Inside some vanilla read-side section (or asserted to be)."""
        return self.vanilla_depth(st) > 0 or bool(st.assumed & self.vanilla) or bool(
            self.entry & self.vanilla and self.callers(st, next(iter(self.vanilla))))

    def in_reader(self, st: State) -> bool:
        """Inside a section entered as a reader (`rcu_read_lock()` and its kin), asserted,
        or documented held on entry; not merely with preemption or bottom halves off under
        a spinlock, which may be the lock of the update side."""
        return self.vanilla_depth(st, explicit_only=True) > 0 or \
            bool(st.assumed & self.vanilla) or bool(
                self.entry & self.vanilla and self.callers(st, next(iter(self.vanilla))))

    def holds(self, st: State, needs: str, handle: str | None = None) -> bool | None:
        """Is a section protecting accessor `needs` held? None when unknown."""
        if needs == "none":
            return True
        if needs in self.vanilla:
            if st.assumed & self.vanilla or (self.entry and self.callers(st, needs)):
                return True
            d = self.vanilla_depth(st)
            return None if d == UNKNOWN else d > 0
        if needs in self.handled:
            if needs in st.assumed:
                return True
            keys = [(k, d) for k, d in st.held if self.family(k) == needs]
            if handle:
                want = self.key(needs, handle)
                keys = [(k, d) for k, d in keys if k in (want, needs)]
            if any(d == UNKNOWN for _, d in keys):
                return None
            return any(d > 0 for _, d in keys)
        d = st.depth(needs)
        if self.entry and self.callers(st, needs):
            return True
        return None if d == UNKNOWN else (d > 0 or needs in st.assumed)

    def held_explicit(self, st: State) -> tuple[str, object] | None:
        """An explicit vanilla section held here, and where it was entered."""
        for fkey, d in st.held:
            if fkey in self.explicit and d > 0:
                return fkey, st.origin(fkey)
        for fkey in sorted(self.entry & self.explicit):
            if fkey not in st.borrowed:
                return fkey, None
        return None

    def mismatched(self, st: State, fkey: str) -> str | None:
        """The held section an unlock of the wrong flavour (or srcu_struct) is closing."""
        fam = self.family(fkey)
        if fam in self.handled:
            held = [k for k, d in st.held if self.family(k) == fam and d != 0]
        elif fkey in self.explicit:
            held = [k for k, d in st.held if k in self.explicit and d != 0]
        else:
            held = []
        return held[-1] if len(held) == 1 else None
