"""Lower a libclang function body into a CFG of events (`analyzer.ir`).

The lowering is the only place that walks cursors.  It knows C, not the kernel:
kernel knowledge enters through the API model, which says which macro uses are
one event (`rcu_dereference(p)`, `kfree_rcu(p, rcu)`, `preempt_disable()`)
rather than the code they expand to, and which `for` loops are RCU list walks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from analyzer.frontend import clang as clangsetup
from analyzer.frontend.capi import extras, ops
from analyzer.frontend.macros import MacroUse, join_tokens
from analyzer.ir import (
    OTHER,
    Assign,
    Block,
    Call,
    Cond,
    Dead,
    Deref,
    Function,
    Loc,
    PlainAccess,
    RcuAccess,
    Return,
    Val,
    Walk,
)
from analyzer.lower import kerneldoc, rcu_fields
from analyzer.lower.context import LowerContext
from analyzer.lower.values import IDENT, val_from_text

# sparse's context annotations: they expand to nothing without __CHECKER__, so only the
# source text between a declarator and its body (or its `;`) shows them
# `p->cfg`, `t.cur`, `global`: the accessor's argument is that field or global itself
_FIELD_PATH = re.compile(r"(?:[A-Za-z_]\w*\s*(?:->|\.)\s*)*([A-Za-z_]\w*)")
_ANNOTATION = re.compile(
    rb"\b__(acquires|releases|must_hold|cond_acquires)\s*\(\s*([&\w][\w\s.>&-]*?)\s*\)")
# `&head->srcu`, `&gt->reset.backoff_srcu`, `&console_srcu`: an object an annotation names
_OBJECT_PATH = re.compile(r"&?\s*([A-Za-z_]\w*)((?:\s*(?:->|\.)\s*[A-Za-z_]\w*)*)")
# operators whose result is a truth value, never the pointer an operand holds
_COMPARISONS = frozenset({"==", "!=", "<", ">", "<=", ">="})
_NORETURN_BUILTINS = {"__builtin_unreachable", "__builtin_trap", "abort"}
_NO_EVAL_BUILTINS = {"__builtin_constant_p", "__builtin_types_compatible_p",
                     "__builtin_object_size", "__builtin_dynamic_object_size"}
_PASSTHROUGH_BUILTINS = {"__builtin_expect", "__builtin_expect_with_probability"}


@dataclass
class _Scope:
    key: int
    guards: list[tuple[str, Val]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


@dataclass
class _Switch:
    dispatch: int
    # each case's block, with its constant (None: `default:`, or a value the lowering
    # cannot compare, such as a GNU range `case 1 ... 3:`)
    cases: list[tuple[int, int | None, object]] = field(default_factory=list)
    has_default: bool = False


class Lowerer:
    def __init__(self, ctx: LowerContext, fcur) -> None:
        self.ci = clangsetup.load()
        self.K = self.ci.CursorKind
        self.ops = ops()
        self.x = extras()
        K = self.K
        self.macro_roots = frozenset((K.StmtExpr, K.CALL_EXPR, K.DO_STMT, K.PAREN_EXPR,
                                      K.UNEXPOSED_EXPR, K.CSTYLE_CAST_EXPR,
                                      K.CONDITIONAL_OPERATOR, K.COMPOUND_STMT, K.IF_STMT,
                                      K.WHILE_STMT, K.BINARY_OPERATOR))
        self.model_macros = {**ctx.model.fns, **ctx.model.access}
        self.ctx = ctx
        self.model = ctx.model
        self.fcur = fcur
        self.guards = ctx.model.guards
        self.blocks: list[Block] = []
        self.cur: int | None = None
        self.scopes: list[_Scope] = []
        self.loops: list[tuple[int, int | None, int]] = []  # (break, continue, scope depth)
        self.switches: list[_Switch] = []
        self.labels: dict[int | str, int] = {}
        self.label_paths: dict[int | str, tuple[int, ...]] | None = None
        self.suppress = 0
        self.in_walk_header = 0
        self.consumed: set[int] = set()
        self.ntmp = 0
        self.unsupported: list[str] = []
        # locals a macro's expansion declares (statement-expression temporaries)
        self.temps: set[str] = set()
        self.in_main = fcur.location.file is not None and \
            fcur.location.file.name == ctx.file
        # plain accesses of pointer fields and globals are events (kept, once the file
        # is lowered, if RCU readers share the pointer)
        self.testing = None  # a bare truth or comparison operand being evaluated
        self.loop_test = ""  # lowering the test of a loop: "loop", or "macro"
        self.choosing = False  # lowering the test of `c ? CONST1 : CONST2`
        self.chosen: dict[tuple, Val] = {}  # ... and the temporary it assigns, by extent
        self.loop_body: int | None = None  # ... and the block of its body
        self.target = None  # the cursor an assignment stores to, and what it stores
        self.storing: Val | None = None
        # the source of an assignment between two RCU-shared locations, and whether the
        # assignment being lowered is one (see `binary`)
        self.rcu_move = None
        self.moving = False
        self.fresh: set[str] = set()  # locals holding an object allocated here
        # locals and parameters this function publishes later (`rcu_assign_pointer(*fapp,
        # new)`): their object is not yet visible to readers, wherever it was allocated
        self.published_later: set[str] = set()
        # locals holding a pointer loaded through an RCU accessor: already published, so
        # storing it elsewhere moves it (RCU_INIT_POINTER()'s third case)
        self.moved: set[str] = set()

    # --- blocks ---------------------------------------------------------------------
    def new(self) -> int:
        self.blocks.append(Block(len(self.blocks)))
        return len(self.blocks) - 1

    def ensure(self) -> int:
        if self.cur is None:
            self.cur = self.new()
        return self.cur

    def emit(self, ev) -> None:
        self.blocks[self.ensure()].events.append(ev)

    def jump(self, target: int) -> None:
        if self.cur is not None:
            self.blocks[self.cur].succs.append((target, None))
        self.cur = None

    def branch(self, cond: Cond, t: int, f: int) -> None:
        if cond.loop:
            # which way enters the loop's body (none: one test of several, `a && b`)
            enters = True if t == self.loop_body else False if f == self.loop_body else None
            cond = replace(cond, loop=cond.loop if enters is not None else "",
                           enters=bool(enters))
        b = self.blocks[self.ensure()]
        b.cond = cond
        b.succs.extend([(t, True), (f, False)])
        self.cur = None

    def assign(self, loc: Loc, target: Val, value: Val, ptr: bool = False,
               narrow: bool = False) -> None:
        """Assignments inside a recognised macro's expansion are the macro's business."""
        if not self.suppress:
            self.emit(Assign(loc, target, value, ptr, narrow=narrow))

    def is_unsigned(self, ctype) -> bool:
        TK = self.ci.TypeKind
        return ctype.get_canonical().kind in (TK.UCHAR, TK.USHORT, TK.UINT, TK.ULONG,
                                              TK.ULONGLONG, TK.CHAR_U)

    def is_ptr(self, ctype) -> bool:
        return ctype.get_canonical().kind == self.ci.TypeKind.POINTER

    def is_word(self, ctype) -> bool:
        """An integer as wide as a pointer (`unsigned long`, `uintptr_t`): the type the
        kernel keeps tagged pointers in (`skb->_nfct`, `page->private`) — not one declared
        as a size or an offset (`size_t size`), which counts bytes or pages."""
        TK = self.ci.TypeKind
        if ctype.get_canonical().kind not in (TK.ULONG, TK.LONG):
            return False
        t = ctype
        while t.kind in (TK.TYPEDEF, TK.ELABORATED):
            d = t.get_declaration()
            if d is None or d.spelling in _COUNT_TYPES:
                return d is None
            t = d.underlying_typedef_type if t.kind == TK.TYPEDEF else t.get_named_type()
        return True

    def is_narrow(self, ctype) -> bool:
        """An integer, enum or bool narrower than a pointer (or declared as a count): a
        store into one keeps a length or a flag, never the object it was computed from
        (`start->nla_len = skb_tail_pointer(skb) - start`)."""
        return ctype.get_canonical().kind.name in _INTEGER_KINDS and not self.is_word(ctype)

    def tested(self, u) -> str:
        """What a tested value is, as a path note says it: NULL, false or 0 (a comparison
        is true or false, though C types it int)."""
        if (u.kind == self.K.BINARY_OPERATOR and self.ops.binary(u) in (
                "<", ">", "<=", ">=", "==", "!=", "&&", "||")) or (
                u.kind == self.K.UNARY_OPERATOR and self.ops.unary(u) == "!"):
            return ""
        kind = u.type.get_canonical().kind
        TK = self.ci.TypeKind
        if kind == TK.POINTER:
            return "ptr"
        if kind == TK.BOOL:
            return "bool"
        if TK.CHAR_U.value <= kind.value <= TK.INT128.value or kind == TK.ENUM:
            return "int"
        return ""

    def loop_cond(self, loop, c, t: int, f: int) -> None:
        """A loop's test: its path notes say the loop is entered or left; a loop a macro
        writes (`list_for_each_entry_rcu()`) is named, its test is the macro's business."""
        self.loop_test = "macro" if self.in_macro(loop) else "loop"
        self.loop_body = t
        try:
            self.cond(c, t, f)
        finally:
            self.loop_test = ""
            self.loop_body = None

    def deref(self, loc: Loc, ptr: Val) -> None:
        """Dereferences in an RCU walk's own header are the walk's (its Walk events)."""
        if not self.in_walk_header:
            self.emit(Deref(loc, ptr))

    def note_header_def(self, name: str, decl) -> None:
        """Remember a callee's body when it lives in a header (a static inline)."""
        d = decl.get_definition()
        if d is None:
            return
        f = d.location.file
        if f is not None and f.name != self.ctx.file:
            self.ctx.header_defs[name] = d

    def synthetic(self, what: str) -> Val:
        """A compiler temporary for a value chosen by branch (`a && b`, `c ? x : y`)."""
        self.ntmp += 1
        name = f"%{what}{self.ntmp}"
        return Val(name, "var", root=name)

    def tmp(self) -> str:
        self.ntmp += 1
        return f"%{self.ntmp}"

    def loc(self, c) -> Loc:
        # one libclang call, not one per property (`.line` and `.column` each ask again)
        f, line, col, _ = c.location._get_instantiation()
        return Loc(self.ctx.name if self.in_main else (f.name if f else "?"), line, col)

    def text(self, c) -> str:
        ext = c.extent
        s, e = ext.start.offset, ext.end.offset
        if self.in_main and e > s and ext.start.file is not None \
                and ext.start.file.name == self.ctx.file:
            return self.ctx.src[s:e].decode("utf-8", "replace")
        return join_tokens([t.spelling for t in c.get_tokens()])

    # --- entry --------------------------------------------------------------------------
    def lower(self) -> Function:
        K = self.K
        kids = list(self.fcur.get_children())
        pdecls = [c for c in kids if c.kind == K.PARM_DECL]
        params = tuple(c.spelling for c in pdecls)
        param_ptrs = tuple(self.is_ptr(c.type) for c in pdecls)
        body = next((c for c in kids if c.kind == K.COMPOUND_STMT), None)
        weak = any(c.kind == K.UNEXPOSED_ATTR and "weak" in self.text(c) for c in kids)
        annotations = self.annotations(body)
        if body is not None and self.in_main:
            self.published_later = self.published_values(body)
            self.fresh |= self.published_later & set(params)
        entry = self.new()
        self.exit_block = self.new()
        self.cur = entry
        if body is not None:
            self.stmt(body)
        if self.cur is not None:
            self.emit(Return(self.loc_end(body) if body is not None else self.loc(self.fcur),
                             None))
            self.jump(self.exit_block)
        for b in self.blocks:
            b.succs = list(dict.fromkeys(b.succs))
        mark_back_edges(self.blocks, entry)
        return Function(self.fcur.spelling, self.loc(self.fcur), params, self.blocks, entry,
                        self.exit_block,
                        self.fcur.storage_class == self.ci.StorageClass.STATIC,
                        self.unsupported, param_ptrs, weak, annotations,
                        temps=tuple(sorted(self.temps)),
                        param_types=tuple(self.record_of(c.type) for c in pdecls),
                        returns_ptr=self.is_ptr(self.fcur.result_type),
                        param_words=tuple(self.is_word(c.type) for c in pdecls),
                        gfp_params=tuple(i for i, c in enumerate(pdecls)
                                         if c.type.spelling == "gfp_t"),
                        atomic_context=kerneldoc.atomic_context(self.fcur))

    def annotations(self, body, fcur=None) -> tuple[tuple[str, str], ...]:
        """`__acquires(RCU)` and friends on the definition and on its first prototype
        (of `fcur`, a callee's declaration, when given)."""
        fcur = fcur or self.fcur
        names = self.model.annotations
        out: list[tuple[str, str]] = []
        spans = []
        loc = fcur.location
        if loc.file is not None and body is not None:
            spans.append((loc.file.name, loc.offset, body.extent.start.offset))
        proto = fcur.canonical
        ploc = proto.location
        if ploc.file is not None and (body is None or (ploc.file.name, ploc.offset) != (
                loc.file.name if loc.file else None, loc.offset)):
            end = proto.extent.end.offset
            text = self.ctx.bytes_of(ploc.file.name)
            semi = text.find(b";", end)
            spans.append((ploc.file.name, ploc.offset, semi if semi >= 0 else end))
        for path, start, end in spans:
            for m in _ANNOTATION.finditer(self.ctx.bytes_of(path)[start:end]):
                context = m.group(2).decode()
                flavour = names.get(context) or self.handle_context(context, fcur)
                item = (m.group(1).decode(), flavour)
                if flavour is not None and item not in out:
                    out.append(item)
        return tuple(out)

    def declared(self, name: str, decl) -> tuple[tuple[str, str], ...]:
        """A callee's sparse annotations, for a call the model does not describe
        (`int sta_info_insert_rcu(struct sta_info *sta) __acquires(RCU);`)."""
        known = self.ctx.declared.get(name)
        if known is None:
            known = ()
            if decl is not None and decl.kind == self.K.FUNCTION_DECL:
                body = next((c for c in decl.get_children()
                             if c.kind == self.K.COMPOUND_STMT), None)
                known = self.annotations(body, decl)
            self.ctx.declared[name] = known
        return known

    def handle_context(self, text: str, fcur=None) -> str | None:
        """`__releases(&head->srcu)`: the section of the flavour whose handles have the
        named object's type (an srcu_struct), keyed by that object (`srcu:head->srcu`)."""
        m = _OBJECT_PATH.fullmatch(text.strip())
        if m is None:
            return None
        base, rest = m.group(1), re.findall(r"\w+", m.group(2))
        fcur = fcur or self.fcur
        decl = next((c for c in fcur.get_children()
                     if c.kind == self.K.PARM_DECL and c.spelling == base), None)
        if decl is None:
            decl = next((c for c in fcur.translation_unit.cursor.get_children()
                         if c.kind == self.K.VAR_DECL and c.spelling == base), None)
        if decl is None:
            # sparse compares contexts as written: `__releases(&c->barrier)` may name a
            # local the body declares (`struct bch_fs *c = trans->c;`)
            body = next((c for c in fcur.get_children() if c.kind == self.K.COMPOUND_STMT),
                        None)
            decl = next((c for c in body.walk_preorder()
                         if c.kind == self.K.VAR_DECL and c.spelling == base), None) \
                if body is not None else None
        if decl is None:
            return None
        t = decl.type.get_canonical()
        for member in rest:
            if t.kind == self.ci.TypeKind.POINTER:
                t = t.get_pointee().get_canonical()
            field_ = next((f for f in t.get_fields() if f.spelling == member), None)
            if field_ is None:
                return None
            t = field_.type.get_canonical()
        spelling = t.spelling.replace("const ", "")
        for name, fl in self.model.flavours.items():
            if fl.handle and fl.handle_type and fl.handle_type == spelling:
                return f"{name}:{base}" + "".join(
                    f"{sep}{member}" for sep, member in
                    re.findall(r"(->|\.)\s*(\w+)", m.group(2)))
        return None

    def loc_end(self, c) -> Loc:
        end = c.extent.end
        return Loc(self.loc(c).file, end.line, max(1, end.column - 1))

    # --- macros -------------------------------------------------------------------------
    def macro_at(self, c, table: dict, kind=None) -> MacroUse | None:
        """The model macro whose whole expansion is cursor `c`, if any.

        Only node kinds a function-like macro can expand to are asked about: a
        reference, a literal or an operator is never a whole model macro, and
        each question costs libclang round trips.
        """
        if not self.in_main or not self.ctx.has_model_macros:
            return None
        if (kind if kind is not None else c.kind) not in self.macro_roots:
            return None
        ext = c.extent
        s = ext.start._get_instantiation()[3]
        uses = self.ctx.macros.starting_at(s)
        if not uses or s in self.consumed:
            return None
        e = ext.end._get_instantiation()[3]
        for use in uses:
            if use.end == e and use.name in table:
                return use
        return None

    # --- statements ---------------------------------------------------------------------
    def stmt(self, c) -> None:
        K = self.K
        k = c.kind
        use = self.macro_at(c, self.model.fns, k) if not self.suppress else None
        if use is not None:
            self.macro_call(c, use, statement=True)
            return
        if k == K.COMPOUND_STMT:
            self.compound(c)
        elif k == K.DECL_STMT:
            for d in c.get_children():
                if d.kind == K.VAR_DECL:
                    self.var_decl(d)
        elif k == K.IF_STMT:
            self.if_stmt(c)
        elif k == K.WHILE_STMT:
            self.while_stmt(c)
        elif k == K.DO_STMT:
            self.do_stmt(c)
        elif k == K.FOR_STMT:
            self.for_stmt(c)
        elif k == K.SWITCH_STMT:
            self.switch_stmt(c)
        elif k in (K.CASE_STMT, K.DEFAULT_STMT):
            self.case_stmt(c)
        elif k == K.LABEL_STMT:
            blk = self.label_block(c.hash)
            self.jump(blk)
            self.cur = blk
            for ch in c.get_children():
                self.stmt(ch)
        elif k == K.GOTO_STMT:
            self.goto_stmt(c)
        elif k == K.BREAK_STMT:
            self.break_continue(0, self.loc(c))
        elif k == K.CONTINUE_STMT:
            self.break_continue(1, self.loc(c))
        elif k == K.RETURN_STMT:
            kids = list(c.get_children())
            val = self.expr(kids[0]) if kids else None
            if any(s.guards for s in self.scopes):
                self.run_destructors(self.scopes, self.loc(c))
            self.emit(Return(self.loc(c), val))
            self.kill(self.scopes, self.loc(c))
            self.jump(self.exit_block)
        elif k in (K.NULL_STMT, K.ASM_STMT, K.MS_ASM_STMT, K.STATIC_ASSERT):
            pass
        elif k == K.INDIRECT_GOTO_STMT:
            self.unsupported.append(f"computed goto at line {c.location.line}")
            self.cur = None
        elif k.is_expression():
            self.discard(self.expr(c))
        else:
            for ch in c.get_children():
                self.stmt(ch)

    def discard(self, value: Val) -> None:
        """The value of a call is thrown away (an expression statement, a comma's left)."""
        if value.tmp is not None and self.cur is not None:
            for ev in reversed(self.blocks[self.cur].events):
                if isinstance(ev, Call) and ev.result == value.tmp:
                    ev.discarded = True
                    break

    def compound(self, c) -> None:
        self.scopes.append(_Scope(c.hash))
        for ch in c.get_children():
            self.stmt(ch)
        self.pop_scope(self.loc_end(c))

    def pop_scope(self, loc: Loc, kill: bool = True) -> None:
        scope = self.scopes[-1]
        if self.cur is not None:
            self.run_destructors([scope], loc)
            if kill:
                self.kill([scope], loc)
        self.scopes.pop()

    def kill(self, scopes: list[_Scope], loc: Loc) -> None:
        names = tuple(n for s in reversed(scopes) for n in reversed(s.names))
        if names:
            self.emit(Dead(loc, names))

    def run_destructors(self, scopes: list[_Scope], loc: Loc) -> None:
        """Cleanup-attribute guards run at every exit from their scope, innermost first."""
        for scope in reversed(scopes):
            for dtor, var in reversed(scope.guards):
                self.emit(Call(loc, dtor, (Val("&" + var.text, "addr", root=var.root),),
                               self.tmp()))

    def exit_scopes(self, depth: int, loc: Loc) -> None:
        if any(s.guards for s in self.scopes[depth:]):
            self.run_destructors(self.scopes[depth:], loc)
        self.kill(self.scopes[depth:], loc)

    def var_decl(self, d) -> None:
        K = self.K
        kids = list(d.get_children())
        init = self.x.var_init(d)
        static = d.storage_class == self.ci.StorageClass.STATIC
        var = Val(d.spelling, "global" if static else "var", root=d.spelling)
        if init is not None:
            value = self.expr(init)
            self.assign(self.loc(d), var, value, self.is_ptr(d.type), self.is_narrow(d.type))
            self.note_fresh(var, value)
        if self.scopes and not static:
            self.scopes[-1].names.append(d.spelling)
        if self.from_macro(d):
            self.temps.add(d.spelling)
        dtor = self.guards.destructor_for(d.type.spelling)
        if dtor and any(k.kind == K.UNEXPOSED_ATTR for k in kids) and self.scopes:
            self.scopes[-1].guards.append((dtor, var))

    def from_macro(self, d) -> bool:
        """Is the declaration written by a macro's expansion (`cmpxchg()`'s `__new`)?  Its
        location then names the macro, not the variable."""
        f, _, _, off = d.location._get_instantiation()
        if f is None:
            return False
        name = d.spelling.encode()
        return self.ctx.bytes_of(f.name)[off:off + len(name)] != name

    def if_stmt(self, c) -> None:
        kids = list(c.get_children())
        then_b, join = self.new(), self.new()
        else_b = self.new() if len(kids) > 2 else join
        self.cond(kids[0], then_b, else_b)
        self.cur = then_b
        self.stmt(kids[1])
        self.jump(join)
        if len(kids) > 2:
            self.cur = else_b
            self.stmt(kids[2])
            self.jump(join)
        self.cur = join

    def while_stmt(self, c) -> None:
        kids = list(c.get_children())
        head, body, out = self.new(), self.new(), self.new()
        self.jump(head)
        self.cur = head
        self.loop_cond(c, kids[0], body, out)
        self.loops.append((out, head, len(self.scopes)))
        self.cur = body
        self.stmt(kids[-1])
        self.jump(head)
        self.loops.pop()
        self.cur = out

    def do_stmt(self, c) -> None:
        kids = list(c.get_children())
        body, test, out = self.new(), self.new(), self.new()
        self.jump(body)
        self.loops.append((out, test, len(self.scopes)))
        self.cur = body
        self.stmt(kids[0])
        self.jump(test)
        self.loops.pop()
        self.cur = test
        self.loop_cond(c, kids[1], body, out)
        self.cur = out

    def for_parts(self, c, kids):
        body = kids[-1]
        rest = kids[:-1]
        if len(rest) == 3:
            return rest[0], rest[1], rest[2], body
        if not rest:
            return None, None, None, body
        parts: list = [None, None, None]
        s = c.extent.start.offset
        header = self.ctx.src[s:body.extent.start.offset] if self.in_main else b""
        if header.startswith(b"for"):
            semis, depth = [], 0
            for i, ch in enumerate(header):
                if ch in b"([{":
                    depth += 1
                elif ch in b")]}":
                    depth -= 1
                elif ch == ord(";") and depth == 1:
                    semis.append(s + i)
            if len(semis) == 2:
                for r in rest:
                    off = r.extent.start.offset
                    parts[0 if off < semis[0] else 1 if off < semis[1] else 2] = r
                return parts[0], parts[1], parts[2], body
        for i, r in enumerate(rest):
            parts[i] = r
        return parts[0], parts[1], parts[2], body

    def for_stmt(self, c) -> None:
        kids = list(c.get_children())
        init, test, inc, body = self.for_parts(c, kids)
        walk = self.walk_at(c)
        depth = len(self.scopes)
        self.scopes.append(_Scope(c.hash))
        head, body_b, step, leave, out = (self.new(), self.new(), self.new(), self.new(),
                                          self.new())
        if walk is not None:
            wm = self.model.walks[walk.name]
            args = walk.arguments()
            cursor = val_from_text(args[wm.cursor]) if len(args) > wm.cursor else OTHER
            headtxt = args[wm.head] if len(args) > wm.head else "?"
            self.consumed.add(walk.start)
            self.emit(Walk(self.loc(c), walk.name, cursor, headtxt, False, tuple(args)))
            self.suppress += 1
            self.in_walk_header += 1
        if init is not None:
            self.stmt(init)
        self.jump(head)
        self.cur = head
        if test is not None:
            self.loop_cond(c, test, body_b, leave)
        else:
            self.jump(body_b)
        if walk is not None:
            self.suppress -= 1
            self.in_walk_header -= 1
        self.loops.append((out, step, depth))
        self.cur = body_b
        self.stmt(body)
        self.jump(step)
        self.loops.pop()
        self.cur = step
        if walk is not None:
            self.emit(Walk(self.loc(c), walk.name, cursor, headtxt, True, tuple(args)))
            self.suppress += 1
            self.in_walk_header += 1
        if inc is not None:
            self.expr(inc)
        if walk is not None:
            self.suppress -= 1
            self.in_walk_header -= 1
        self.jump(head)
        # the normal exit leaves the for-scope here; `break` ran its destructors already
        self.cur = leave
        self.pop_scope(self.loc_end(c))
        self.jump(out)
        self.cur = out

    def walk_at(self, c) -> MacroUse | None:
        if not self.in_main:
            return None
        uses = self.ctx.macros.starting_at(c.extent.start.offset) if self.ctx.has_model_macros \
            else []
        return next((u for u in uses if u.name in self.model.walks
                     and u.start not in self.consumed), None)

    def switch_stmt(self, c) -> None:
        kids = list(c.get_children())
        tested = self.unwrap(kids[0])
        plain = tested.kind in (self.K.DECL_REF_EXPR, self.K.MEMBER_REF_EXPR)
        subject = self.operand(tested) if plain else self.expr(kids[0])
        sw = _Switch(self.ensure())
        out = self.new()
        self.cur = None
        self.switches.append(sw)
        self.loops.append((out, None, len(self.scopes)))
        self.stmt(kids[-1])
        self.jump(out)
        self.loops.pop()
        self.switches.pop()
        default = next((blk for blk, _, cur in sw.cases if cur is None), out)
        tested_value = (plain and subject.kind in ("var", "field")) or \
            (subject.kind == "call" and subject.tmp is not None)
        if tested_value and sw.cases and \
                all(v is not None or cur is None for _, v, cur in sw.cases):
            self.dispatch(sw, subject, default)
        else:
            for blk, _, _ in sw.cases:
                self.blocks[sw.dispatch].succs.append((blk, None))
            if not sw.has_default:
                self.blocks[sw.dispatch].succs.append((out, None))
        self.cur = out

    def dispatch(self, sw: _Switch, x: Val, default: int) -> None:
        """`switch (mode)` as the tests it makes, one case after another (`mode == A`,
        else `mode == B`, ..., else the default): a branch on a known value takes its
        one case, and what a case does holds under its test (a summary's mode).  A call's
        result is tested by the call (`switch (PTR_ERR(gi))`: `case -EAGAIN` shows `gi`
        an error pointer)."""
        self.cur = sw.dispatch
        by = x.tmp if x.kind == "call" and x.tmp else x.text
        cases = [(blk, v, cur) for blk, v, cur in sw.cases if cur is not None]
        for i, (blk, v, cur) in enumerate(cases):
            y = self.named_constant(cur) or self.operand(self.unwrap(cur))
            if y.kind != "const" or y.const != v:
                y = Val(str(v), "const", const=v)
            named = _named_constants(x, y)
            subject = Val(f"{x.text} == {y.text}", "other", root=x.root,
                          op=("==", by, v), named=named)
            nxt = self.new() if i < len(cases) - 1 else default
            self.branch(Cond(subject, self.text(cur), self.loc(cur), "case",
                             self.loop_test), blk, nxt)
            self.cur = nxt

    def case_stmt(self, c) -> None:
        blk = self.new()
        self.jump(blk)
        kids = list(c.get_children())
        if self.switches:
            sw = self.switches[-1]
            value = self.x.evaluate_int(kids[0]) if c.kind == self.K.CASE_STMT and \
                len(kids) == 2 else None
            sw.cases.append((blk, value, kids[0] if c.kind == self.K.CASE_STMT else None))
            sw.has_default |= c.kind == self.K.DEFAULT_STMT
        self.cur = blk
        if kids:
            self.stmt(kids[-1])

    def label_block(self, label: int | str) -> int:
        """The block of a label, by the label statement's identity: a macro's local
        label (`__label__ out;` in a statement expression) is not the function's `out`."""
        if label not in self.labels:
            self.labels[label] = self.new()
        return self.labels[label]

    def goto_stmt(self, c) -> None:
        target = c.referenced
        name: int | str | None = target.hash if target is not None and \
            target.kind == self.K.LABEL_STMT else None
        if name is None:
            name = next((ch.spelling for ch in c.get_children()), None)
        if name is None:
            toks = [t.spelling for t in c.get_tokens()]
            name = toks[1] if len(toks) > 1 else "?"
        if any(s.guards for s in self.scopes):
            path = self.label_path(name)
            leaving = [s for s in self.scopes if s.key not in path]
            if leaving:
                self.run_destructors(leaving, self.loc(c))
        if any(s.names for s in self.scopes[1:]):
            path = self.label_path(name)
            self.kill([s for s in self.scopes if s.key not in path], self.loc(c))
        self.jump(self.label_block(name))

    def label_path(self, name: int | str) -> tuple[int, ...]:
        """Keys of the scopes enclosing label `name` (for guards left by a goto)."""
        if self.label_paths is None:
            K = self.K
            self.label_paths = {}
            stack = [(ch, ()) for ch in self.fcur.get_children()]
            while stack:
                cur, path = stack.pop()
                k = cur.kind
                if k in (K.COMPOUND_STMT, K.FOR_STMT):
                    path = (*path, cur.hash)
                elif k == K.LABEL_STMT:
                    self.label_paths[cur.hash] = path
                stack.extend((ch, path) for ch in cur.get_children())
        return self.label_paths.get(name, ())

    def break_continue(self, which: int, loc: Loc) -> None:
        for brk, cont, depth in reversed(self.loops):
            target = brk if which == 0 else cont
            if target is None:
                continue
            self.exit_scopes(depth, loc)
            self.jump(target)
            return
        self.cur = None

    # --- conditions ---------------------------------------------------------------------
    def unwrap(self, c):
        K = self.K
        while True:
            k = c.kind
            if k in (K.PAREN_EXPR, K.UNEXPOSED_EXPR, K.CSTYLE_CAST_EXPR):
                kids = [x for x in c.get_children() if x.kind.is_expression()]
                if len(kids) != 1:
                    return c
                if self.in_main and k != K.PAREN_EXPR and self.ctx.has_model_macros and \
                        self.macro_at(c, self.model.access) is not None:
                    return c
                c = kids[0]
            elif k == K.CALL_EXPR and c.spelling in _PASSTHROUGH_BUILTINS:
                kids = list(c.get_children())
                if len(kids) < 2:
                    return c
                c = kids[1]
            else:
                return c

    def const_of(self, c) -> int | None:
        if c.kind not in (self.K.INTEGER_LITERAL, self.K.CHARACTER_LITERAL):
            return None
        return self.x.evaluate_int(c)

    def cond(self, c, t: int, f: int) -> None:
        K = self.K
        u = self.unwrap(c)
        k = u.kind
        if k == K.UNARY_OPERATOR and self.ops.unary(u) == "!":
            self.cond(next(iter(u.get_children())), f, t)
            return
        if k == K.BINARY_OPERATOR:
            op = self.ops.binary(u)
            if op == ",":
                # `(get(x), 1)`: clang folds the constant right-hand side, but the left one
                # still runs
                a, b = list(u.get_children())
                self.discard(self.expr(a))
                self.cond(b, t, f)
                return
            if op in ("&&", "||"):
                a, b = list(u.get_children())
                mid = self.new()
                if op == "&&":
                    self.cond(a, mid, f)
                else:
                    self.cond(a, t, mid)
                self.cur = mid
                self.cond(b, t, f)
                return
            if op in ("==", "!="):
                a, b = list(u.get_children())
                for x, y in ((a, b), (b, a)):
                    if self.is_null(y):
                        if op == "==":
                            self.cond(x, f, t)
                        else:
                            self.cond(x, t, f)
                        return
                if self.equality(u, a, b, t, f) if op == "==" else \
                        self.equality(u, a, b, f, t, negated=True):
                    return
        value = self.const_of(u)
        if value is None and k in self.foldable_kinds:
            # sizeof comparisons in compiletime_assert(), IS_ENABLED(), const flags
            value = self.x.evaluate_int(u)
        if value is None and k == K.CALL_EXPR and u.spelling == "__builtin_constant_p":
            # what the function's own text folds to (`roundup_pow_of_two(n)` of a
            # variable): both arms compute one value, the compiler keeps one of them
            value = self.x.evaluate_int(u) or 0
        if value is not None:
            self.jump(t if value else f)
            return
        subject = self.operand(u)
        self.branch(Cond(subject, self.text(c), self.loc(c), self.tested(u),
                         self.loop_test, mode=self.choosing), t, f)

    def operand(self, c) -> Val:
        """A tested or compared pointer is not loaded through (`if (p->cfg)`,
        `if (sk->sk_policy[dir])`, `if (tbl[i] != old)`); what the access reads on the
        way to it is (`p->cfg` in `if (p->cfg->ops)`)."""
        if c.kind not in (self.K.MEMBER_REF_EXPR, self.K.DECL_REF_EXPR,
                          self.K.ARRAY_SUBSCRIPT_EXPR):
            return self.expr(c)
        self.testing = c
        try:
            return self.expr(c)
        finally:
            self.testing = None

    def equality(self, c, a, b, t: int, f: int, negated: bool = False) -> bool:
        """`x != y` is the negation of `x == y`: one subject, so a later test of either
        agrees with an earlier one.  False when the comparison is a constant."""
        value = self.x.evaluate_int(c)
        if value is not None:
            return False
        va = self.named_constant(a) or self.operand(self.unwrap(a))
        vb = self.named_constant(b) or self.operand(self.unwrap(b))
        x, y = sorted((va, vb), key=lambda v: (v.const is not None, v.text))
        rel = ("==", x.text, y.const) if x.kind in ("var", "field") and y.const is not None \
            else None
        if rel is None and x.kind == "call" and x.tmp and y.const is not None:
            rel = ("==", x.tmp, y.const)  # `PTR_ERR(key) == -ENOKEY`: by the call's result
        same = (x.text, y.text) if x.kind == y.kind == "var" and x.text != y.text and \
            self.is_ptr(self.unwrap(a).type) else None
        # `sk != skb->sk`: a variable against a pointer loaded from a field
        loaded = next(((v.text, w.text) for v, w in ((va, vb), (vb, va))
                       if v.kind == "var" and w.kind == "field"), None) \
            if same is None and self.is_ptr(self.unwrap(a).type) else None
        # `uid_keyring_r == ERR_PTR(-EAGAIN)`: where it holds, the variable is an error
        # pointer (the model's errno calls that return a pointer make them)
        errptr = next((v.text for v, w, c in ((va, vb, b), (vb, va, a))
                       if v.kind == "var" and w.kind == "call" and self.makes_errptr(w, c)),
                      None)
        static = next((v.text for v, w, c in ((va, vb, b), (vb, va, a))
                       if v.kind == "var" and w.kind == "addr" and self.static_object(c)),
                      None)
        named = _named_constants(x, y)
        subject = Val(f"{x.text} == {y.text}", "other", root=x.root or y.root, op=rel,
                      same=same, equals=loaded, is_err=errptr, is_static=static,
                      named=named)
        self.branch(Cond(subject, self.text(c), self.loc(c), "", self.loop_test,
                         negated=negated), t, f)
        return True

    def static_object(self, c) -> bool:
        """`&nop_mnt_idmap`: the address of an object of static storage, never freed."""
        K = self.K
        c = self.unwrap(c)
        if c.kind != K.UNARY_OPERATOR or self.ops.unary(c) != "&":
            return False
        kids = [self.unwrap(k) for k in c.get_children()]
        ref = kids[0].referenced if kids and kids[0].kind == K.DECL_REF_EXPR else None
        return ref is not None and ref.kind == K.VAR_DECL and (
            ref.storage_class in (self.ci.StorageClass.STATIC, self.ci.StorageClass.EXTERN)
            or ref.semantic_parent.kind == K.TRANSLATION_UNIT)

    def makes_errptr(self, v: Val, c) -> bool:
        """`ERR_PTR(-EAGAIN)`: a call the model says makes an errno, of pointer type."""
        fm = self.model.fn(v.text[:-2]) if v.text.endswith("()") else None
        return fm is not None and fm.errno and self.is_ptr(self.unwrap(c).type)

    @property
    def foldable_kinds(self):
        """Condition shapes worth asking clang to evaluate as constants."""
        K = self.K
        return (K.BINARY_OPERATOR, K.UNEXPOSED_EXPR, K.DECL_REF_EXPR, K.CXX_UNARY_EXPR,
                K.UNARY_OPERATOR)

    def is_null(self, c) -> bool:
        u = self.unwrap(c)
        return self.const_of(u) == 0

    # --- expressions --------------------------------------------------------------------
    def expr(self, c, addr_of: bool = False) -> Val:
        K = self.K
        k = c.kind
        if not self.suppress and self.in_main and self.ctx.has_model_macros:
            use = self.macro_at(c, self.model_macros, k)
            if use is not None:
                if use.name in self.model.access:
                    return self.access_macro(c, use)
                return self.macro_call(c, use)
        if k == K.CSTYLE_CAST_EXPR:
            # a typeof() in the target type is visited first; the operand is last
            kids = list(c.get_children())
            return self.expr(kids[-1], addr_of) if kids else OTHER
        if k in (K.UNEXPOSED_EXPR, K.PAREN_EXPR):
            kids = list(c.get_children())
            if len(kids) == 1 and kids[0].kind.is_expression():
                return self.expr(kids[0], addr_of)
            # offsetof, __builtin_types_compatible_p, __builtin_choose_expr, `a ?: b`:
            # constant ones evaluate nothing at run time
            value = self.x.evaluate_int(c)
            if value is not None:
                return Val(str(value), "const", const=value)
            for x in kids:
                if x.kind.is_expression():
                    self.expr(x)
            return OTHER
        if k == K.DECL_REF_EXPR:
            name = c.spelling
            ref = c.referenced
            if ref is not None:
                rk = ref.kind
                if rk == K.ENUM_CONSTANT_DECL:
                    return Val(name, "const", const=ref.enum_value)
                if rk == K.FUNCTION_DECL:
                    return Val(name, "func")
                if rk == K.VAR_DECL and (
                        ref.storage_class in (self.ci.StorageClass.STATIC,
                                              self.ci.StorageClass.EXTERN)
                        or ref.semantic_parent.kind == K.TRANSLATION_UNIT):
                    if not addr_of and ref.semantic_parent.kind == K.TRANSLATION_UNIT:
                        self.note_plain(c, ref, name)
                    return Val(name, "global", root=name, path=())
            return Val(name, "var", root=name, path=())
        if k == K.MEMBER_REF_EXPR:
            kids = list(c.get_children())
            if not kids:
                return Val(c.spelling, "field")
            base_c = kids[0]
            arrow = base_c.type.get_canonical().kind == self.ci.TypeKind.POINTER
            base = self.expr(base_c)
            if arrow and not addr_of:
                self.deref(self.loc(c), base)
            sep = "->" if arrow else "."
            name = c.spelling
            path = base.path if base.kind in ("var", "global", "field", "deref") else None
            if "(anonymous" in name or not name:
                # an anonymous struct or union member: its fields are spelled as the
                # enclosing object's (`skb->_skb_refdst`)
                return Val(f"{base.text}{sep}", "field", root=base.root,
                           path=(*path, sep) if path is not None else None)
            if path is not None and path and path[-1] in ("->", "."):
                path = (*path[:-1], path[-1] + name)  # (after an anonymous member)
            elif path is not None:
                path = (*path, sep + name)
            if base.text.endswith(("->", ".")):
                v = Val(f"{base.text}{name}", "field", root=base.root, path=path)
            else:
                v = Val(f"{base.text}{sep}{name}", "field", root=base.root, path=path)
            if not addr_of:
                self.note_plain(c, c.referenced, v.text, v.root)
            return v
        if k == K.ARRAY_SUBSCRIPT_EXPR:
            kids = list(c.get_children())
            if len(kids) != 2:
                return OTHER
            base = self.expr(kids[0])
            idx = self.expr(kids[1])
            pointer = self.unwrap(kids[0]).type.get_canonical().kind == self.ci.TypeKind.POINTER
            if pointer and not addr_of:
                self.deref(self.loc(c), base)
            text = f"{base.text}[{idx.text}]"
            held = self.unwrap(kids[0])
            if not addr_of and held.kind in (K.MEMBER_REF_EXPR, K.DECL_REF_EXPR) and \
                    held.referenced is not None:
                # an element of an array of RCU-shared pointers (`domain->revmap[hwirq]`)
                self.note_plain(c, held.referenced, text, base.root, element=True)
            path = (*base.path, "[]") if base.kind in ("var", "global", "field") and \
                base.path is not None else None
            return Val(text, "field", root=base.root, path=path)
        if k == K.UNARY_OPERATOR:
            return self.unary(c)
        if k in (K.BINARY_OPERATOR, K.COMPOUND_ASSIGNMENT_OPERATOR):
            return self.binary(c, k == K.COMPOUND_ASSIGNMENT_OPERATOR)
        if k == K.CONDITIONAL_OPERATOR:
            kids = list(c.get_children())
            if len(kids) != 3:
                return OTHER
            var = self.synthetic("cond")
            ptr = self.is_ptr(c.type)
            arms = [None if ptr else self.x.evaluate_int(k) for k in kids[1:]]
            t, f, j = self.new(), self.new(), self.new()
            outer, self.choosing = self.choosing, None not in arms and arms[0] != arms[1]
            try:
                self.cond(kids[0], t, f)
            finally:
                self.choosing = outer
            for block, arm, value in ((t, kids[1], arms[0]), (f, kids[2], arms[1])):
                self.cur = block
                v = self.expr(arm)
                if value is None:
                    self.assign(self.loc(c), var, v, ptr)
                else:
                    # (the lowering's own temporary, inside a macro's expansion too: a
                    # model macro's argument is this choice, `kmalloc(n, c ? A : B)`)
                    self.emit(Assign(self.loc(c), var, Val(v.text, "const", const=value)))
                self.jump(j)
            self.cur = j
            if None not in arms:
                self.chosen[_span(c)] = var
            return var
        if k == K.CALL_EXPR:
            return self.call(c)
        if k == K.StmtExpr:
            return self.stmt_expr(c)
        if k == K.INTEGER_LITERAL:
            v = self.const_of(c)
            if v is None:
                return OTHER
            return Val(str(v), "const", const=v)
        if k == K.STRING_LITERAL:
            return Val("<string>", "str")
        if k == K.GENERIC_SELECTION_EXPR:
            return self.generic_selection(c)
        if k == K.CXX_UNARY_EXPR:
            return OTHER
        for ch in c.get_children():
            if ch.kind.is_expression():
                self.expr(ch)
            elif ch.kind.is_statement():
                self.stmt(ch)
        return OTHER

    def generic_selection(self, c) -> Val:
        """`_Generic(ptr, const T *: A, default: B)` (container_of_const(), kobj_to_dev()):
        only the association the compiler selects runs, the one of the expression's own
        type; the controlling expression is never evaluated."""
        arms = list(c.get_children())[1:]
        want = c.type.get_canonical().spelling
        chosen = [a for a in arms if a.type.get_canonical().spelling == want]
        if len(chosen) != 1:
            return OTHER
        return self.expr(chosen[0])

    def named_constant(self, c) -> Val | None:
        """An operand that is the whole expansion of an object-like macro with a constant
        value keeps the macro's name (`flags & LOOKUP_RCU`): partners test the flag by it."""
        if not self.in_main or not self.ctx.macros.uses:
            return None
        ext = c.extent
        start = ext.start._get_instantiation()[3]
        uses = self.ctx.macros.starting_at(start)
        if not uses:
            return None
        end = ext.end._get_instantiation()[3]
        use = next((u for u in uses if u.end == end and len(u.tokens) == 1), None)
        if use is None:
            return None
        value = self.x.evaluate_int(c)
        return Val(use.name, "const", const=value) if value is not None else None

    # --- plain accesses of RCU-shared pointers --------------------------------------------
    def note_plain(self, c, decl, text: str, root: str | None = None,
                   element: bool = False) -> None:
        """A plain load (or, as an assignment's target, store) of a pointer field or
        global written in the main file (or of an element of one, `element`)."""
        kind = "read"
        if self.rcu_move is not None and c == self.rcu_move:
            return  # read to be stored at another RCU-shared location (see `binary`)
        if self.target is not None and c == self.target:
            v = self.storing
            if v is None or v.is_null or v.kind in ("rcu", "protected") or self.moving or \
                    (v.kind == "var" and v.root in self.moved):
                return  # storing NULL, or moving a published pointer, needs no ordering
            kind = "write"
        if self.suppress or not self.in_main or (self.testing is not None and c == self.testing) \
                or decl is None or \
                not self.is_ptr(c.type) or self.in_macro(c):
            return
        fields = self.ctx.rcu_fields
        key = fields.element_key_of(decl, self.ctx.bytes_of) if element else \
            fields.key_of(decl, self.ctx.bytes_of)
        if key is not None:
            self.emit(PlainAccess(self.loc(c), text, kind, key,
                                  fresh=bool(root) and root in self.fresh))

    def rcu_location(self, c) -> bool:
        """`t->cur`, `dom->revmap[i]`, `*pp` (`struct x __rcu **pp`): a location RCU
        readers load pointers from (declared `__rcu`, or read through an accessor)."""
        K, fields = self.K, self.ctx.rcu_fields
        if c.kind == K.MEMBER_REF_EXPR and c.referenced is not None:
            key = fields.key_of(c.referenced, self.ctx.bytes_of)
            return key is not None and fields.why(key) is not None
        kids = [self.unwrap(k) for k in c.get_children()]
        if c.kind == K.ARRAY_SUBSCRIPT_EXPR and kids and \
                kids[0].kind in (K.MEMBER_REF_EXPR, K.DECL_REF_EXPR) and \
                kids[0].referenced is not None:
            key = fields.element_key_of(kids[0].referenced, self.ctx.bytes_of)
            return key is not None and fields.why(key) is not None
        if c.kind == K.UNARY_OPERATOR and self.ops.unary(c) == "*" and kids and \
                kids[0].kind == K.DECL_REF_EXPR and kids[0].referenced is not None and \
                kids[0].referenced.kind in (K.VAR_DECL, K.PARM_DECL):
            return rcu_fields.declares_rcu_elements(kids[0].referenced, self.ctx.bytes_of)
        return False

    def published_values(self, body) -> set[str]:
        """The plain variables that publishing macros in `body` make readers' view."""
        ext = body.extent
        out: set[str] = set()
        for use in self.ctx.macros.within(ext.start.offset, ext.end.offset):
            fm = self.model.fn(use.name)
            if fm is None or fm.publishes is None:
                continue
            args = use.arguments()
            if fm.publishes[1] < len(args):
                v = args[fm.publishes[1]].strip("() ")
                if v.isidentifier():
                    out.add(v)
        return out

    def in_macro(self, c) -> bool:
        """Written inside a macro's arguments or body, not directly in the source."""
        return self.ctx.macros.covers(c.location.offset)

    def note_fresh(self, target: Val, value: Val) -> None:
        """A local that now holds an object just allocated, or no longer does."""
        if target.kind != "var":
            return
        fm = self.model.fn(value.text[:-2]) if value.kind == "call" else None
        if (fm is not None and fm.allocates) or (
                value.kind in ("addr", "var") and value.root in self.fresh) or (
                value.kind == "call" and target.text in self.published_later):
            # `new_fdt = &newf->fdtab`: inside it; `more = grow_alloc(n)`, published below
            self.fresh.add(target.text)
        else:
            self.fresh.discard(target.text)
        if value.kind in ("rcu", "protected") or (
                value.kind == "var" and value.root in self.moved):
            self.moved.add(target.text)
        else:
            self.moved.discard(target.text)

    def establish(self, c, use: MacroUse, index: int) -> None:
        """An RCU accessor's pointer argument is RCU-shared, wherever else it is used."""
        args = use.arguments()
        m = _FIELD_PATH.fullmatch(args[index].strip()) if index < len(args) else None
        if m is None:
            return  # an element (`fdt->fd[fd]`), a cast or a dereference: not a field
        K = self.K
        for cur in c.walk_preorder():
            if cur.kind in (K.MEMBER_REF_EXPR, K.DECL_REF_EXPR) and \
                    cur.spelling == m.group(1):
                ref = cur.referenced
                if ref is None or ref.kind not in (K.FIELD_DECL, K.VAR_DECL):
                    return
                key = self.ctx.rcu_fields.key_of(ref, self.ctx.bytes_of)
                if key is not None:
                    self.ctx.rcu_fields.accessed.setdefault(
                        key, f"{use.name}() at line {use.line}")
                return

    def folded(self, c, v: Val) -> Val:
        """A constant operand libclang can evaluate, with its value."""
        value = self.x.evaluate_int(c)
        return Val(v.text, "const", const=value) if value is not None else v

    def at_offset_zero(self, c) -> bool:
        """`p->m.n`: every member named is the first of its struct (or a union's)."""
        c = self.unwrap(c)
        while c.kind == self.K.MEMBER_REF_EXPR:
            f, kids = c.referenced, list(c.get_children())
            if f is None or f.get_field_offsetof() != 0 or not kids:
                return False
            c = self.unwrap(kids[0])
        return True

    def unary(self, c) -> Val:
        kids = list(c.get_children())
        if not kids:
            return OTHER
        op = self.ops.unary(c)
        if op == "&":
            v = self.expr(kids[0], addr_of=True)
            path = v.path if v.kind in ("var", "global", "field") else None
            base = bool(path) and path[0].startswith("->") and \
                all(s.startswith(".") for s in path[1:]) and self.at_offset_zero(kids[0])
            return Val("&" + v.text, "addr", root=v.root, path=path, base=base)
        if op == "*":
            v = self.expr(kids[0])
            if v.kind != "addr":
                self.deref(self.loc(c), v)
                # (`(*m)->refcount`: what the pointer `m` points to points to)
                return Val("*" + v.text, "deref", root=v.root,
                           path=(*v.path, "*") if v.kind in ("var", "global") and
                           v.path is not None else None)
            return Val(v.text[1:], "var" if IDENT.fullmatch(v.text[1:]) else "field",
                       root=v.root, path=v.path)
        if op in ("++", "--"):
            v = self.expr(kids[0])
            if not self.suppress:
                self.emit(Assign(self.loc(c), v, OTHER, counts_up=op == "++" and
                                 self.is_unsigned(kids[0].type),
                                 moves=self.is_ptr(kids[0].type)))
            return v
        v = self.expr(kids[0])
        if op == "-" and v.const is not None:
            return Val(str(-v.const), "const", const=-v.const)
        if op in ("__extension__", "+"):
            return v
        if op == "!":
            if v.const is not None:
                return Val(str(int(not v.const)), "const", const=int(not v.const))
            return Val(v.text, v.kind, root=v.root, tmp=v.tmp, neg=not v.neg, op=v.op)
        return OTHER

    def binary(self, c, compound: bool) -> Val:
        kids = list(c.get_children())
        if len(kids) != 2:
            return OTHER
        op = self.ops.binary(c)
        lhs, rhs = kids
        if op in ("&&", "||"):
            # the value is 1 or 0 by branch: a temporary keeps that link for later tests
            var = self.synthetic("logic")
            t, f, j = self.new(), self.new(), self.new()
            self.cond(c, t, f)
            self.cur = t
            self.assign(self.loc(c), var, Val("1", "const", const=1))
            self.jump(j)
            self.cur = f
            self.assign(self.loc(c), var, Val("0", "const", const=0))
            self.jump(j)
            self.cur = j
            return var
        if op == ",":
            self.discard(self.expr(lhs))
            return self.expr(rhs)
        if op == "=":
            # `*mc_hash = im->next_hash`: a pointer moved from one RCU-shared location to
            # another is neither a publication nor a read that needs an accessor (sparse
            # sees one address space on both sides)
            src = self.unwrap(rhs)
            move = self.rcu_location(src) and self.rcu_location(self.unwrap(lhs))
            self.rcu_move = src if move else None
            value = self.expr(rhs)
            self.rcu_move = None
            self.target, self.storing = self.unwrap(lhs), value
            self.moving = move
            try:
                target = self.expr(lhs)
            finally:
                self.target = self.storing = None
            self.assign(self.loc(c), target, value, self.is_ptr(lhs.type),
                        self.is_narrow(lhs.type))
            self.note_fresh(target, value)
            return target
        a = self.named_constant(lhs) or self.expr(lhs)
        b = self.named_constant(rhs) or self.expr(rhs)
        if compound:
            # `gfp_mask |= __GFP_MEMALLOC`: the new value is the old one with constant bits
            # set or cleared, which leaves the others as the argument had them
            bits = op.rstrip("=")
            k = b.const if b.const is not None else self.x.evaluate_int(rhs)
            kept = Val(f"{a.text} {bits} {b.text}", "other", root=a.root,
                       op=(bits, a.text, k)) \
                if bits in ("|", "&") and a.kind == "var" and k is not None else OTHER
            if bits in ("+", "-") and self.is_ptr(lhs.type):
                if not self.suppress:
                    self.emit(Assign(self.loc(c), a, OTHER, moves=True))
                return a
            self.assign(self.loc(c), a, kept)
            return a
        rel = None
        if a.kind in ("var", "field") and b.const is None and b.kind == "other":
            b = self.folded(rhs, b)  # `f->f_mode & FMODE_BACKING` inside unlikely()
        elif b.kind in ("var", "field") and a.const is None and a.kind == "other":
            a = self.folded(lhs, a)
        if a.kind in ("var", "field") and b.const is not None:
            rel = (op, a.text, b.const)
        elif b.kind in ("var", "field") and a.const is not None and \
                op in ("&", "|", "==", "!=", "^"):
            rel = (op, b.text, a.const)
        # `(char *)__mptr - offsetof(struct nf_conn, tuplehash[dir])`: container_of()
        container = op == "-" and a.kind in ("var", "other") and a.root is not None and \
            self.is_ptr(lhs.type) and not self.is_ptr(rhs.type)
        named = _named_constants(a, b)
        return Val(f"{a.text} {op} {b.text}", "other", root=a.root or b.root, op=rel,
                   truth=op in _COMPARISONS, container=container, named=named)

    def stmt_expr(self, c) -> Val:
        comp = next(iter(c.get_children()), None)
        if comp is None:
            return OTHER
        kids = list(comp.get_children())
        if not self.suppress:
            found = self.expanded_access(kids)
            if found is not None:
                return self.expanded_access_event(c, *found)
        self.scopes.append(_Scope(comp.hash))
        for ch in kids[:-1]:
            self.stmt(ch)
        value = OTHER
        if kids:
            last = kids[-1]
            if last.kind.is_expression():
                value = self.expr(last)
            else:
                self.stmt(last)
        # a statement expression's temporaries (container_of's __mptr) carry its value
        # out to the enclosing expression: they are not declared dead here
        self.pop_scope(self.loc_end(c), kill=False)
        return value

    def variadic_from(self, decl) -> int:
        """How many parameters `decl`'s prototype names before its `...`; -1 when it has
        none."""
        t = decl.type.get_canonical() if decl is not None else None
        if t is None or t.kind != self.ci.TypeKind.FUNCTIONPROTO or \
                not t.is_function_variadic():
            return -1
        return len(list(t.argument_types()))

    def call(self, c) -> Val:
        K = self.K
        kids = list(c.get_children())
        if not kids:
            return OTHER
        callee_c, arg_cs = kids[0], kids[1:]
        u = self.unwrap(callee_c)
        name = None
        callee_text = ""
        if u.kind == K.DECL_REF_EXPR and u.referenced is not None and \
                u.referenced.kind == K.FUNCTION_DECL:
            name = u.spelling
            if not self.suppress and name not in self.ctx.header_defs and \
                    self.model.fn(name) is None:
                self.note_header_def(name, u.referenced)
        else:
            callee_text = self.expr(callee_c).text
        if name in _PASSTHROUGH_BUILTINS and arg_cs:
            return self.expr(arg_cs[0])
        if name in _NO_EVAL_BUILTINS:
            return OTHER
        vals = tuple(self.expr(a) for a in arg_cs)
        if self.suppress:
            return Val(f"{name or callee_text}()", "call")
        fm = self.model.fn(name)
        arg_text = tuple(self.text(a) for a in arg_cs) if fm is not None else ()
        blocks = None
        if fm is not None and fm.gfp is not None and fm.gfp < len(arg_cs):
            blocks = self.gfp_blocks(arg_cs[fm.gfp])
        if fm is None and name is not None:
            # `ima_lsm_copy_rule(rule, GFP_KERNEL)`: a constant mask or mode given to an
            # analysed callee decides the conditions its summary puts on that parameter
            vals = tuple(self.constant(a, v) for a, v in zip(arg_cs, vals, strict=True))
        if self.fresh and name is not None and name.endswith("_rcu"):
            # list_add_rcu(&t->node, head): readers can find it now
            self.fresh -= {v.root for v in vals}
        tmp = self.tmp()
        not_a_put = fm is None and name is not None and (
            self.model.names_a_put(name) or self.model.names_a_put_inside(name)) and \
            self.shaped_as_writer(u.referenced)
        types = tuple(self.object_type(a) for a in arg_cs) if fm is not None and fm.typed \
            else ()
        declared = self.declared(name, u.referenced) if fm is None and name else ()
        # `l_ctx = nfs_get_lock_context(ctx)`: a get by its name that returns an object
        # of another type gets that one, not its argument
        other = fm is None and name is not None and bool(arg_cs) and \
            self.model.names_a_get(name) and \
            self.record_of(c.type) not in ("", self.record_of(arg_cs[0].type))
        on_stack = tuple(i for i, (a, v) in enumerate(zip(arg_cs, vals, strict=True))
                         if v.kind == "addr" and v.text == f"&{v.root}" and
                         self.stack_record(a))
        member_type = self.record_of(arg_cs[0].type) if fm is None and len(vals) == 1 \
            and vals[0].member_of_root else ""
        self.emit(Call(self.loc(c), name, vals, tmp, arg_text, callee_text=callee_text,
                       predicate=c.type.get_canonical().kind == self.ci.TypeKind.BOOL,
                       gfp_blocks=blocks, not_a_put=not_a_put, types=types,
                       on_stack=on_stack, member_type=member_type,
                       declared=declared, gets_other=other,
                       variadic_from=self.variadic_from(u.referenced) if fm is None and
                       name is not None else -1,
                       fresh=tuple(i for i, v in enumerate(vals) if v.root in self.fresh)
                       if self.fresh else ()))
        if name is not None and self.noreturn(name, u.referenced):
            self.cur = None  # BUG(), panic(): nothing after the call runs
        # the result is taken to be reached from the first pointer-like argument
        root = next((v.root for v in vals if v.kind in ("var", "addr", "field") and v.root),
                    None)
        return Val(f"{name or callee_text}()", "call", root=root, tmp=tmp)

    def stack_record(self, c) -> bool:
        """`&iter`, `iter` a structure on this function's stack (not a pointer, a
        parameter or a global): where a callee keeps its state for the caller."""
        u = self.unwrap(c)
        kids = list(u.get_children()) if u.kind == self.K.UNARY_OPERATOR else []
        ref = self.unwrap(kids[0]) if kids else None
        if ref is None or ref.kind != self.K.DECL_REF_EXPR or ref.referenced is None:
            return False
        d = ref.referenced
        return d.kind == self.K.VAR_DECL and \
            d.linkage == self.ci.LinkageKind.NO_LINKAGE and \
            d.type.get_canonical().kind == self.ci.TypeKind.RECORD

    def record_of(self, t) -> str:
        """`struct x` for a pointer to (or an array of pointers to) struct x, else ""."""
        TK = self.ci.TypeKind
        t = t.get_canonical()
        while t.kind in (TK.CONSTANTARRAY, TK.INCOMPLETEARRAY):
            t = t.get_array_element_type().get_canonical()
        if t.kind != TK.POINTER:
            return ""
        p = t.get_pointee().get_canonical()
        return p.spelling if p.kind == TK.RECORD else ""

    def object_type(self, c) -> str:
        """The struct an argument reaches: its pointee, or for `&obj->field` (and
        `&obj->a.b`) the struct of `obj`, whose reference or rcu_head the field is."""
        K = self.K
        u = self.unwrap(c)
        if u.kind == K.UNARY_OPERATOR and self.ops.unary(u) == "&":
            kids = list(u.get_children())
            inner = self.unwrap(kids[0]) if kids else None
            base = None
            while inner is not None and inner.kind == K.MEMBER_REF_EXPR:
                base = inner
                kids = [x for x in inner.get_children() if x.kind.is_expression()]
                inner = self.unwrap(kids[0]) if kids else None
            if base is not None and inner is not None:
                t = inner.type.get_canonical()
                if t.kind == self.ci.TypeKind.RECORD:
                    return t.spelling
                return self.record_of(t)
            return ""
        return self.record_of(u.type)

    def macro_arg_types(self, c, args: list[str]) -> tuple[str, ...]:
        """The struct each macro argument (`objcg`, `dev->xps_maps[type]`) points to, found
        by its last name among the expansion's references (one walk for all of them)."""
        names = []
        for text in args:
            m = _FIELD_PATH.fullmatch(re.sub(r"\s*\[[^\]]*\]\s*$", "", text.strip("() ")))
            names.append(m.group(1) if m else None)
        want = {n for n in names if n}
        found: dict[str, str] = {}
        K = self.K
        for cur in c.walk_preorder() if want else ():
            if cur.kind in (K.MEMBER_REF_EXPR, K.DECL_REF_EXPR) and cur.spelling in want:
                ref = cur.referenced
                found[cur.spelling] = self.record_of(ref.type) if ref is not None else ""
                want.discard(cur.spelling)
                if not want:
                    break
        return tuple(found.get(n, "") if n else "" for n in names)

    def shaped_as_writer(self, decl) -> bool:
        """A reference put takes the object and at most a count, and returns nothing, a
        flag or a count; `nla_put(skb, type, len, data)` and `skb_put(skb, len)` (the
        room it made) write data."""
        if decl is None:
            return False
        t = decl.type
        if t.kind == self.ci.TypeKind.FUNCTIONPROTO and len(list(t.argument_types())) > 2:
            return True
        return t.get_result().get_canonical().kind == self.ci.TypeKind.POINTER

    def noreturn(self, name: str, decl) -> bool:
        """`__builtin_unreachable()`, and functions declared `__noreturn`."""
        known = self.ctx.noreturn.get(name)
        if known is None:
            known = name in _NORETURN_BUILTINS
            if not known and decl is not None:
                for k in decl.get_children():
                    if k.kind != self.K.UNEXPOSED_ATTR:
                        continue
                    f, _, _, start = k.extent.start._get_instantiation()
                    end = k.extent.end._get_instantiation()[3]
                    if f is not None and b"noreturn" in self.ctx.bytes_of(f.name)[start:end + 16]:
                        known = True
                        break
            self.ctx.noreturn[name] = known
        return known

    def constant(self, arg, val: Val) -> Val:
        """`val` with its value when `arg` is a constant integer expression of macros
        and enumerators (no variable in it), as the compiler folds it."""
        if val.const is not None or val.root is not None or val.kind not in ("other",):
            return val
        if self.ctx.gfp_reclaim_bit is None and arg.type.spelling == "gfp_t":
            # (the bit a mask's reclaim flag is, once some constant mask shows it)
            self.ctx.gfp_reclaim_bit = self.reclaim_bit(arg)
        value = self.x.evaluate_int(arg)
        return val if value is None else replace(val, const=value)

    def gfp_blocks(self, arg) -> bool | None:
        """Does a constant gfp mask hold the model's direct-reclaim bit? None if unknown,
        or if a conditional chooses between masks that differ in it (the path decides:
        its arms assign the masks' values)."""
        mask = self.x.evaluate_int(arg)
        u = self.unwrap(arg)
        if mask is None and u.kind == self.K.CONDITIONAL_OPERATOR:
            arms = [self.gfp_blocks(k) for k in list(u.get_children())[1:]]
            return arms[0] if len(arms) == 2 and arms[0] == arms[1] else None
        if mask is None:
            return None
        bit = self.ctx.gfp_reclaim_bit
        if bit is None:
            bit = self.ctx.gfp_reclaim_bit = self.reclaim_bit(arg)
        return None if bit is None else bool(mask >> bit & 1)

    def reclaim_bit(self, arg) -> int | None:
        """The bit's value, from the enum that the mask's own flag constants belong to."""
        want = self.model.gfp.reclaim_bit
        if not want:
            return None
        K = self.K
        for cur in arg.walk_preorder():
            ref = cur.referenced if cur.kind == K.DECL_REF_EXPR else None
            if ref is None or ref.kind != K.ENUM_CONSTANT_DECL:
                continue
            if ref.spelling == want:
                return ref.enum_value
            for const in ref.semantic_parent.get_children():
                if const.spelling == want:
                    return const.enum_value
        return None

    def macro_call(self, c, use: MacroUse, statement: bool = False) -> Val:
        """A model function used as a macro: one call event, its expansion hidden."""
        self.consumed.add(use.start)
        self.suppress += 1
        if statement:
            self.stmt(c)
        else:
            self.expr(c)
        self.suppress -= 1
        args = tuple(use.arguments())
        fm = self.model.fn(use.name)
        if fm is not None and fm.publishes is not None:
            self.establish(c, use, fm.publishes[0])
            if fm.publishes[1] < len(args):
                self.fresh.discard(args[fm.publishes[1]].strip("() "))
        blocks = inner = None
        if fm is not None and fm.gfp is not None:
            inner = self.inner_gfp_arg(c, fm)
            blocks = self.gfp_blocks(inner) if inner is not None else None
        tmp = self.tmp()
        types = self.macro_arg_types(c, args) if fm is not None and fm.typed else ()
        vals = [val_from_text(a) for a in args]
        if blocks is None and inner is not None and fm.gfp < len(vals):
            # a mask chosen by a test: the temporary the test's arms assigned
            vals[fm.gfp] = self.chosen.get(_span(self.unwrap(inner)), vals[fm.gfp])
        self.emit(Call(self.loc(c), use.name, tuple(vals), tmp,
                       args, via_macro=True, gfp_blocks=blocks, types=types))
        return Val(f"{use.name}()", "call", tmp=tmp)

    def inner_gfp_arg(self, c, fm):
        """The gfp argument of the call a gfp macro expands to (`kmalloc` → `kmalloc_noprof`).

        The macro's arguments are only tokens; the call inside its expansion is the one
        whose argument cursor libclang can evaluate.
        """
        K = self.K
        for cur in c.walk_preorder():
            if cur.kind != K.CALL_EXPR:
                continue
            inner = self.model.fn(cur.spelling)
            if inner is not None and inner.gfp == fm.gfp:
                kids = list(cur.get_children())[1:]
                return kids[fm.gfp] if fm.gfp < len(kids) else None
        return None

    # --- RCU accessors no macro record names --------------------------------------------
    def expanded_access(self, kids) -> tuple[object, bool] | None:
        """`rcu_dereference()` expanded inside another macro (`for_each_fib6_node_rt_rcu()`)
        or in a header inline: no macro use of the main file names it, but the expansion
        has the accessor's shape (include/linux/rcupdate.h, __rcu_dereference_check()): a
        local initialised by a volatile read of the pointer (READ_ONCE()), then lockdep's
        check `c || rcu_read_lock_held()` — a call the model says asserts a section.
        Returns the pointer's cursor and whether `c` is the constant 0 (no other
        protection stated)."""
        K = self.K
        if len(kids) < 2 or kids[0].kind != K.DECL_STMT:
            return None
        decls = list(kids[0].get_children())
        if len(decls) != 1 or decls[0].kind != K.VAR_DECL or not self.is_ptr(decls[0].type):
            return None
        init = [x for x in decls[0].get_children() if x.kind.is_expression()]
        ptr = self.volatile_read(init[-1]) if init else None
        if ptr is None:
            return None
        for k in kids[1:]:
            for node in k.walk_preorder():
                if node.kind != K.BINARY_OPERATOR or self.ops.binary(node) != "||":
                    continue
                a, b = list(node.get_children())
                b = self.unwrap(b)
                fm = self.model.fn(b.spelling) if b.kind == K.CALL_EXPR else None
                if fm is not None and fm.asserts:
                    return ptr, self.const_of(self.unwrap(a)) == 0
        return None

    def volatile_read(self, c):
        """READ_ONCE(x)'s `x`: the lvalue read through a volatile-qualified pointer."""
        K = self.K
        for node in c.walk_preorder():
            if node.kind != K.CSTYLE_CAST_EXPR:
                continue
            t = node.type.get_canonical()
            if t.kind != self.ci.TypeKind.POINTER or \
                    not t.get_pointee().is_volatile_qualified():
                continue
            inner = self.unwrap(list(node.get_children())[-1])
            if inner.kind == K.UNARY_OPERATOR and self.ops.unary(inner) == "&":
                return next(iter(inner.get_children()), None)
        return None

    def expanded_access_event(self, c, ptr_c, plain: bool) -> Val:
        """The access an expanded accessor makes, as `access_macro` makes it."""
        self.suppress += 1
        ptr = self.expr(ptr_c)
        self.suppress -= 1
        name = "rcu_dereference" if plain else "rcu_dereference_check"
        # (a condition other than 0 states a protection of its own: its text is not
        # needed, only that it is not false)
        args = (ptr.text,) if plain else (ptr.text, "1")
        tmp = self.tmp()
        self.emit(RcuAccess(self.loc(c), name, ptr, args, tmp))
        return Val(f"{name}({ptr.text})", "rcu", tmp=tmp)

    def access_macro(self, c, use: MacroUse) -> Val:
        """`rcu_dereference(p)` and friends: derefs inside stay, the access is one event."""
        self.consumed.add(use.start)
        self.suppress += 1
        self.expr(c)
        self.suppress -= 1
        args = tuple(use.arguments())
        ptr = val_from_text(args[0]) if args else OTHER
        self.establish(c, use, 0)
        tmp = self.tmp()
        self.emit(RcuAccess(self.loc(c), use.name, ptr, args, tmp))
        am = self.model.access.get(use.name)
        kind = "rcu" if am is None or am.reader else "protected"
        return Val(f"{use.name}({args[0] if args else ''})", kind, tmp=tmp)


# typedefs of sizes, offsets and indexes (include/linux/types.h, posix_types.h): integers
# as wide as a pointer that never carry one
_INTEGER_KINDS = frozenset(("BOOL", "CHAR_U", "UCHAR", "CHAR16", "CHAR32", "USHORT", "UINT",
                            "ULONG", "ULONGLONG", "UINT128", "CHAR_S", "SCHAR", "WCHAR",
                            "SHORT", "INT", "LONG", "LONGLONG", "INT128", "ENUM"))
_COUNT_TYPES = frozenset(("size_t", "ssize_t", "__kernel_size_t", "__kernel_ssize_t",
                          "loff_t", "__kernel_loff_t", "off_t", "__kernel_off_t", "pgoff_t",
                          "ptrdiff_t", "__kernel_ptrdiff_t"))


def mark_back_edges(blocks: list[Block], entry: int) -> None:
    """Edges to a block still on the DFS stack close a loop (iterative DFS)."""
    state = [0] * len(blocks)  # 0 new, 1 on stack, 2 done
    stack = [(entry, 0)]
    state[entry] = 1
    while stack:
        node, i = stack[-1]
        succs = blocks[node].succs
        if i < len(succs):
            stack[-1] = (node, i + 1)
            nxt = succs[i][0]
            if state[nxt] == 1:
                blocks[node].back_edge_to.add(nxt)
            elif state[nxt] == 0:
                state[nxt] = 1
                stack.append((nxt, 0))
        else:
            state[node] = 2
            stack.pop()


def lower_function(ctx: LowerContext, fcur) -> Function:
    return Lowerer(ctx, fcur).lower()


def _named_constants(*vals: Val) -> tuple[str, ...]:
    """The named constants of the operands (a macro's or an enumerator's name)."""
    return tuple(dict.fromkeys(n for v in vals for n in (
        *v.named, *((v.text,) if v.kind == "const" and v.text.isidentifier() else ()))))


def _span(c) -> tuple[int, int]:
    """Where an expression's text is (one node reached two ways hashes differently)."""
    return c.extent.start.offset, c.extent.end.offset
