"""The lowered form of a function: a CFG of basic blocks holding events.

Events are what the engine and checkers reason about — calls, assignments,
dereferences, RCU accesses, list walks, returns — each with a source location.
Values are normalised expressions (`Val`), so that `memcg`, `(memcg)` and
`(struct mem_cgroup *)memcg` are one object to the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["OTHER", "Assign", "Block", "Call", "Cond", "Dead", "Deref", "Event", "Function",
           "Loc", "PlainAccess", "RcuAccess", "Return", "Val", "Walk", "describe", "dump",
           "evaluate"]


@dataclass(frozen=True)
class Loc:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Val:
    """A normalised expression.

    kind: var (local or parameter), global, field, addr, deref, call, rcu (an RCU
    reader's load), protected (an update-side load), func, const, null, str, other.
    `root` is the variable the expression starts from (`memcg` for `&memcg->css`),
    `tmp` names a call's result so a later branch can test it, and `neg` marks a
    logical negation of the value.
    """

    text: str
    kind: str = "other"
    root: str | None = None
    const: int | None = None
    tmp: str | None = None
    neg: bool = False  # logically negated (`!x`): a truth value, not the pointer
    # a comparison's result (`d->users > 0`, `p == q`): a truth value, no object goes
    # with it (the operand's pointer is not returned or stored)
    truth: bool = False
    # `seq & 1`, `state == 3`: (operator, local variable, constant), for the engine to
    # decide a branch when it knows the variable's value
    op: tuple[str, str, int] | None = None
    # `a == b` of two pointer variables: where it holds they are one object
    same: tuple[str, str] | None = None
    # `sk == skb->sk` of a pointer variable and a field: (variable, the field's text)
    equals: tuple[str, str] | None = None
    # `x == ERR_PTR(-E)` of a pointer variable: where it holds, `x` is an error pointer
    is_err: str | None = None
    # `x == &nop_mnt_idmap` of a pointer variable and the address of an object of static
    # storage: where it holds, `x` is that object, which is never freed
    is_static: str | None = None
    # a pointer moved back by an offset (`__mptr - offsetof(T, m)`, container_of()'s
    # arithmetic): the object that holds what `root` points to
    container: bool = False
    # the access path from `root`, when the expression is `root` followed by members and
    # subscripts only (of a `field`, or of the operand of an `addr`): `("->id", ".ref")`
    # for `&memcg->id.ref`, `("->slots", "[]")` for `t->slots[i]`; None otherwise
    path: tuple[str, ...] | None = None
    # `&rt->dst` where every member named is its struct's first (offset 0): the address
    # is the object's own, seen as the type it embeds first (`struct rtable` begins with
    # its `struct dst_entry`), so whoever keeps it keeps the object
    base: bool = False
    # the named constants the expression tests (`LOOKUP_RCU` in `nd->flags & LOOKUP_RCU`)
    named: tuple[str, ...] = ()

    @property
    def member_of_root(self) -> bool:
        """`&p->m` (or `&p->m.n`): the address of a member of the object `p` points to."""
        return self.kind == "addr" and bool(self.path) and self.path[0].startswith("->") \
            and all(s.startswith(".") for s in self.path[1:])

    @property
    def last_member(self) -> str | None:
        """The member an access ends with (`cur_task` for `it->cur_task`)."""
        if self.path and self.path[-1] != "[]":
            return self.path[-1].lstrip("-.>")
        return None

    @property
    def is_temporary(self) -> bool:
        """The lowering's own variable (`%cond3`: the value a branch chose), no C name."""
        return self.kind == "var" and self.text.startswith("%")

    @property
    def is_null(self) -> bool:
        return self.kind == "null" or (self.kind == "const" and self.const == 0)


_OPS = {"&": lambda a, b: a & b, "|": lambda a, b: a | b, "==": lambda a, b: int(a == b),
        "!=": lambda a, b: int(a != b), "<": lambda a, b: int(a < b),
        ">": lambda a, b: int(a > b), "<=": lambda a, b: int(a <= b),
        ">=": lambda a, b: int(a >= b), "^": lambda a, b: a ^ b}


def evaluate(op: tuple[str, str, int], value: int) -> int | None:
    """The value of `var OP const` when the variable holds `value`."""
    fn = _OPS.get(op[0])
    return fn(value, op[2]) if fn else None


OTHER = Val("?")


@dataclass
class Call:
    loc: Loc
    callee: str | None
    args: tuple[Val, ...]
    result: str
    arg_text: tuple[str, ...] = ()
    via_macro: bool = False
    callee_text: str = ""
    discarded: bool = False  # the result is ignored (an expression statement)
    # the model's gfp argument evaluated: does its mask allow direct reclaim (None: unknown)
    gfp_blocks: bool | None = None
    # named like a put but shaped like a data writer (`nlmsg_put(skb, ...)`, `skb_put()`
    # returning the room it made): more than two parameters, or a pointer result
    not_a_put: bool = False
    # per argument, the struct its pointer reaches (`struct obj_cgroup` for `objcg` and
    # for `&objcg->refcnt`), or "" — recorded only for calls the model says free, defer,
    # publish, get or put (the checks that relate objects by type need no more)
    types: tuple[str, ...] = ()
    # arguments that are the address of a structure on the caller's stack (`&iter`): a
    # callee given one may keep there what its result needs (an iterator's reference)
    on_stack: tuple[int, ...] = ()
    # of a call nothing models given one member's address (`rcu_free_slab(&slab->rcu)`):
    # the member's struct (`struct callback_head` for an rcu_head)
    member_type: str = ""
    # the callee's sparse annotations, when the model has no entry for it: (kind,
    # flavour) as in `Function.annotations`
    declared: tuple[tuple[str, str], ...] = ()
    # named like a get, but returns an object of another type than its first argument's
    # (`nfs_get_lock_context(ctx)`): what it gets is the object it returns
    gets_other: bool = False
    # the index of the first argument passed through `...` (`pr_info(fmt, p)`): no
    # prototype says what the callee does with it; -1: the callee is not variadic
    variadic_from: int = -1
    # arguments that point into an object this function allocated and has not published
    # (`tbl->buckets` after `tbl = kmalloc(...)`): nobody else can see it yet
    fresh: tuple[int, ...] = ()
    # the callee returns `bool`: true is its success (`fwnode_device_is_available()`),
    # where an int's non-zero is a failure code
    predicate: bool = False


@dataclass
class Assign:
    loc: Loc
    target: Val
    value: Val
    ptr: bool = False  # the target has pointer type
    # `depth++` of an unsigned counter: afterwards it is not zero (it does not wrap)
    counts_up: bool = False
    # `pte++`, `p += n` of a pointer: it moves within the object it points into, which
    # stays the one it was (and NULL or not as it was) for every rule
    moves: bool = False
    # the target is an integer narrower than a pointer (or a count): what is stored
    # there is a length or a flag computed from the value, never the object itself
    narrow: bool = False


@dataclass
class Deref:
    loc: Loc
    ptr: Val


@dataclass
class RcuAccess:
    """`rcu_dereference(p)` and friends; `result` names the loaded pointer."""

    loc: Loc
    macro: str
    ptr: Val
    args: tuple[str, ...]
    result: str


@dataclass
class Walk:
    """The head (`step=False`) or the advance (`step=True`) of an RCU list walk."""

    loc: Loc
    macro: str
    cursor: Val
    head: str
    step: bool
    args: tuple[str, ...] = ()


@dataclass
class Return:
    loc: Loc
    value: Val | None


@dataclass
class PlainAccess:
    """A plain load or store ("read", "write" of a non-NULL value) of a pointer that RCU
    readers share (`why`: its `__rcu` declaration, or an accessor use elsewhere)."""

    loc: Loc
    text: str
    kind: str
    key: str  # "struct tbl::cur", "::global_cfg"
    # the object written to was allocated here and is not published yet
    fresh: bool = False
    why: str = ""


@dataclass
class Dead:
    """Local variables going out of scope (block end, break, continue, goto, return)."""

    loc: Loc
    names: tuple[str, ...]


Event = Call | Assign | Deref | RcuAccess | Walk | Return | Dead | PlainAccess


@dataclass
class Cond:
    """A branch on the truth of `subject` (negated for `!x`, `x == NULL`)."""

    subject: Val
    text: str
    loc: Loc
    # what the tested value is, for the path note that states the path's assumption:
    # "ptr" (NULL or an object), "bool", "int", "case" (a switch's case: `text` is its
    # label), or "" (a comparison, anything else)
    what: str = ""
    # the test of a loop: "loop" (while, for, do), "macro" (a loop a macro writes, such
    # as list_for_each_entry_rcu()), "" for none; its notes enter and leave it
    loop: str = ""
    enters: bool = False  # a loop's test: the outcome that enters its body
    # the text shows the negation of the subject (`a != b`, whose subject is `a == b`)
    negated: bool = False
    # the test chooses between two constants (`!out->atomic ? GFP_KERNEL : GFP_NOWAIT`):
    # the tested value is a mode its setter picks, not data
    mode: bool = False


@dataclass
class Block:
    id: int
    events: list[Event] = field(default_factory=list)
    # successors: (block id, condition outcome or None for an unconditional edge)
    succs: list[tuple[int, bool | None]] = field(default_factory=list)
    cond: Cond | None = None
    back_edge_to: set[int] = field(default_factory=set)


@dataclass
class Function:
    name: str
    loc: Loc
    params: tuple[str, ...]
    blocks: list[Block]
    entry: int
    exit: int
    is_static: bool = False
    unsupported: list[str] = field(default_factory=list)
    param_ptrs: tuple[bool, ...] = ()
    is_weak: bool = False  # `__weak`: a default that a strong definition overrides
    # sparse context annotations on the definition or its prototype, as (kind, flavour):
    # ("acquires", "rcu") for `__acquires(RCU)`; kinds: acquires, releases, must_hold,
    # cond_acquires
    annotations: tuple[tuple[str, str], ...] = ()
    # the gfp bit that allows direct reclaim in this TU, when a constant mask showed it
    gfp_bit: int | None = None
    # the TU's kmem_caches created SLAB_TYPESAFE_BY_RCU (`sighand_cachep`): a free into
    # one leaves the memory an object of its type for readers that revalidate
    typesafe_caches: tuple[str, ...] = ()
    # locals declared by macro expansions (`__new` of cmpxchg()): not the code's own
    temps: tuple[str, ...] = ()
    # per parameter, the struct its pointer reaches (`struct rcu_head`), or ""
    param_types: tuple[str, ...] = ()
    # returns a pointer: a return of one known not to be NULL is a true result
    returns_ptr: bool = False
    # its address is taken in the file (an ops table's member, a work or timer
    # callback): code the analysis does not see calls it, in a context of its own
    callback: bool = False
    # per parameter: an integer as wide as a pointer, which may carry a tagged one
    param_words: tuple[bool, ...] = ()
    # the parameters declared `gfp_t`: the caller's word on whether the function may block
    gfp_params: tuple[int, ...] = ()
    # its kernel-doc says it may be called in interrupt or atomic context
    # (`lower/kerneldoc.py`)
    atomic_context: bool = False

    def block(self, i: int) -> Block:
        return self.blocks[i]


def describe(ev: Event) -> str:
    """One line per event, for `rcucheck cfg` and test failure messages."""
    if isinstance(ev, Call):
        args = ", ".join(a.text for a in ev.args)
        name = ev.callee or f"(*{ev.callee_text})"
        return f"{ev.result} = call {name}({args}){' [macro]' if ev.via_macro else ''}"
    if isinstance(ev, Assign):
        return f"{ev.target.text} := {ev.value.text}"
    if isinstance(ev, Deref):
        return f"deref {ev.ptr.text}"
    if isinstance(ev, RcuAccess):
        return f"{ev.result} = {ev.macro}({', '.join(ev.args)})"
    if isinstance(ev, Walk):
        return f"walk{'-step' if ev.step else ''} {ev.macro}({ev.cursor.text}, {ev.head})"
    if isinstance(ev, Return):
        return f"return {ev.value.text if ev.value else ''}".rstrip()
    if isinstance(ev, Dead):
        return f"dead {', '.join(ev.names)}"
    if isinstance(ev, PlainAccess):
        return f"plain {ev.kind} {ev.text}"
    return repr(ev)


def dump(fn: Function) -> str:
    lines = [f"function {fn.name} ({', '.join(fn.params)}) entry=B{fn.entry} exit=B{fn.exit}"]
    for b in fn.blocks:
        succ = []
        for target, outcome in b.succs:
            tag = "" if outcome is None else ("T:" if outcome else "F:")
            back = "^" if target in b.back_edge_to else ""
            succ.append(f"{tag}B{target}{back}")
        cond = f" if {b.cond.subject.text}" if b.cond else ""
        lines.append(f"  B{b.id}:{cond} -> {' '.join(succ) or '(end)'}")
        for ev in b.events:
            lines.append(f"    {ev.loc.line}: {describe(ev)}")
    return "\n".join(lines)
