"""Which pointers RCU readers share, and the plain accesses to them a TU makes.

A field or global is RCU-shared when its declaration says `__rcu` (the attribute
expands to nothing without `__CHECKER__`, so its tokens are read), or when the main
file reads or publishes it through an RCU accessor somewhere (`rcu_dereference(p->cfg)`,
`rcu_assign_pointer(p->cfg, new)`). The lowering records every plain access to a
pointer field or global written directly in the main file; once the whole file is
lowered, the `PlainAccess` events of RCU-shared ones are kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class RcuFields:
    """The TU's RCU-shared pointers: declared `__rcu`, or used with an accessor."""

    # key -> "declared __rcu at FILE:LINE"
    declared: dict[str, str] = field(default_factory=dict)
    # key -> "rcu_dereference() at line N", the first accessor use seen
    accessed: dict[str, str] = field(default_factory=dict)
    # declaration position -> key, or None when it is not an RCU-shared candidate
    _seen: dict[tuple, str | None] = field(default_factory=dict)

    def key_of(self, decl, bytes_of) -> str | None:
        """The key of a field or global pointer declaration; records a `__rcu` one."""
        loc = decl.location
        if loc.file is None:
            return None
        pos = (loc.file.name, loc.offset)
        if pos in self._seen:
            return self._seen[pos]
        parent = decl.semantic_parent
        owner = ""
        if parent is not None and parent.kind.is_declaration() and \
                parent.kind.name in ("STRUCT_DECL", "UNION_DECL"):
            owner = parent.type.spelling
        elif parent is not None and parent.kind.name != "TRANSLATION_UNIT":
            self._seen[pos] = None  # a local: not shared
            return None
        key = f"{owner}::{decl.spelling}"
        ext = decl.extent
        text = bytes_of(loc.file.name)[ext.start.offset:ext.end.offset]
        if b"__rcu" in text and _declares_rcu_pointer(text, decl.spelling):
            self.declared.setdefault(
                key, f"declared __rcu at {loc.file.name.rsplit('/', 1)[-1]}:{loc.line}")
        self._seen[pos] = key
        return key

    def element_key_of(self, decl, bytes_of) -> str | None:
        """The key of the elements of a field or global whose elements are RCU-shared
        pointers (`void __rcu *revmap[]`, `struct file __rcu **fd`): `key[]`."""
        key = self.key_of(decl, bytes_of)
        if key is None:
            return None
        loc, ext = decl.location, decl.extent
        text = bytes_of(loc.file.name)[ext.start.offset:ext.end.offset]
        if b"__rcu" in text and _declares_rcu_elements(text, decl.spelling):
            self.declared.setdefault(
                key + "[]", f"declared __rcu at {loc.file.name.rsplit('/', 1)[-1]}:{loc.line}")
        return key + "[]"

    def why(self, key: str) -> str | None:
        return self.declared.get(key) or self.accessed.get(key)


def _declares_rcu_pointer(text: bytes, name: str) -> bool:
    """`struct cfg __rcu *cur`: `cur` itself is RCU-shared; in `struct file __rcu **fd`
    only the pointers `fd` points to are."""
    m = re.search(rb"__rcu\s*(\**)\s*" + re.escape(name.encode()) + rb"\b", text)
    return m is not None and len(m.group(1)) == 1


def _declares_rcu_elements(text: bytes, name: str) -> bool:
    """`void __rcu *revmap[]`, `struct file __rcu **fd`: each element is RCU-shared.  One
    level further (`struct ip6_tnl __rcu **tnls[2]`: the pointers each `tnls[i]` points
    to) the elements are plain pointers to the shared ones."""
    m = re.search(rb"__rcu\s*(\**)\s*" + re.escape(name.encode()) + rb"\s*(\[)?", text)
    return m is not None and len(m.group(1)) - 1 + (1 if m.group(2) else 0) == 1


def declares_rcu_elements(decl, bytes_of) -> bool:
    """A local or parameter declared as a pointer to RCU-shared pointers (`struct
    ip_mc_list __rcu **mc_hash`): what it points to is RCU-shared."""
    loc, ext = decl.location, decl.extent
    if loc.file is None:
        return False
    text = bytes_of(loc.file.name)[ext.start.offset:ext.end.offset]
    return b"__rcu" in text and _declares_rcu_elements(text, decl.spelling)
