"""What the lowering of one TU needs besides a function's cursor."""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.frontend.macros import MacroIndex, unwrap
from analyzer.lower.rcu_fields import RcuFields
from analyzer.model import ApiModel


@dataclass
class LowerContext:
    """The model, the main file's macro uses and source bytes, and what lowering learns.

    `name` is the path main-file locations carry: the file as the user knows it, which
    differs from the parsed path when a change is checked in an overlay.
    """

    model: ApiModel
    file: str
    name: str
    src: bytes
    macros: MacroIndex
    # does the main file use any macro the model describes? (most expansions are not)
    has_model_macros: bool = False
    # static inline callees defined in headers, by name: summarised like the file's own
    header_defs: dict[str, object] = field(default_factory=dict)
    # the bit of a gfp mask that allows direct reclaim, once found in this TU
    gfp_reclaim_bit: int | None = None
    # headers' bytes, read when a prototype's annotations are looked for
    texts: dict[str, bytes] = field(default_factory=dict)
    # callees' sparse annotations, by name (see `Lowerer.declared`)
    declared: dict[str, tuple] = field(default_factory=dict)
    # callees known to return (False) or not (True)
    noreturn: dict[str, bool] = field(default_factory=dict)
    # pointers RCU readers share, as the TU declares and uses them
    rcu_fields: RcuFields = field(default_factory=RcuFields)

    def bytes_of(self, path: str) -> bytes:
        if path == self.file:
            return self.src
        if path not in self.texts:
            try:
                with open(path, "rb") as f:
                    self.texts[path] = f.read()
            except OSError:
                self.texts[path] = b""
        return self.texts[path]

    @classmethod
    def for_tu(cls, parsed, model: ApiModel, name: str | None = None) -> LowerContext:
        names = model.macro_names()
        macros = parsed.macros
        if parsed.macro_defs:
            uses = unwrap(list(macros), parsed.macro_defs, names)
            if any(a is not b for a, b in zip(uses, macros, strict=True)):
                macros = MacroIndex(uses)
        has = any(use.name in names for use in macros)
        return cls(model, str(parsed.path), name or str(parsed.path), parsed.path.read_bytes(),
                   macros, has)
