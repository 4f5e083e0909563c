"""Pre-submit checking: the findings a change introduces, and only those.

The change is a patch (a `git format-patch` mail or a plain unified diff, parsed
with unidiff) or a git range.  Nothing in the user's tree is touched: changed
files are written into a temporary overlay whose include directories take
precedence over the tree's, and every affected translation unit is parsed from
the overlay with the tree's own flags.  Before and after are each one run of the
driver (so summaries see through the changed helpers), and findings are matched
by their line-free fingerprint: a finding is new if the change adds it, wherever
it is, including a caller whose helper lost its rcu_read_lock().
"""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import unidiff

from analyzer.build.tree import KernelTree
from analyzer.driver.phase1 import Job
from analyzer.driver.session import RunResult, Session, UnitReport
from analyzer.errors import InputError
from analyzer.ir import Finding, Loc


@dataclass
class Change:
    """Changed files: tree-relative path -> text before and after (None: absent)."""

    before: dict[str, str | None]
    after: dict[str, str | None]
    # files an earlier patch of the series changed: the same on both sides
    context: dict[str, str | None] = field(default_factory=dict)


@dataclass
class PatchResult:
    added: list[Finding]
    # units that could not be analysed, and on which side of the change
    failed: list[tuple[str, UnitReport]]
    # what the user must know: changed files nothing checks, and why
    notes: list[str] = field(default_factory=list)
    unchecked: int = 0


@dataclass
class Mail:
    """One patch of the input and its title (`[PATCH 2/5] mm: foo`; None for a plain diff)."""

    title: str | None
    text: str


_FROM_LINE = re.compile(rb"^From \S+ +\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4}\s*$", re.M)


def _decode(data: bytes, charset: str | None = None) -> str:
    """Text as git reads it: the declared charset, else UTF-8, else Latin-1; CRLF as LF."""
    for cs in (charset, "utf-8"):
        if cs:
            try:
                return data.decode(cs).replace("\r\n", "\n")
            except (LookupError, UnicodeDecodeError):
                pass
    return data.decode("latin-1").replace("\r\n", "\n")


def split_mails(data: bytes) -> list[Mail]:
    """The patches of one input: an mbox of a series, one mail, or a plain diff."""
    starts = [m.start() for m in _FROM_LINE.finditer(data)]
    if not starts and not re.match(rb"(?:[\w-]+:.*\r?\n)+", data):
        return [Mail(None, _decode(data))]
    chunks = [data[a:b] for a, b in zip(starts, [*starts[1:], len(data)], strict=True)] \
        if starts else [data]
    mails = []
    for chunk in chunks:
        if _FROM_LINE.match(chunk):
            chunk = chunk.split(b"\n", 1)[1] if b"\n" in chunk else b""
        msg = email.message_from_bytes(chunk, policy=email.policy.default)
        title = " ".join(str(msg.get("subject") or "").split()) or None
        parts = [msg] if not msg.is_multipart() else \
            [p for p in msg.walk() if p.get_content_type() == "text/plain"]
        body = "".join(_decode(p.get_payload(decode=True) or b"", p.get_content_charset())
                       for p in parts)
        mails.append(Mail(title, body))
    return mails


def parse_patch(text: str) -> unidiff.PatchSet:
    try:
        patch = unidiff.PatchSet(text)
    except unidiff.UnidiffParseError as exc:
        raise InputError(f"the patch cannot be parsed: {exc}") from None
    if not len(patch):
        raise InputError("the input holds no unified diff")
    return patch


def apply_file(original: str, pfile: unidiff.PatchedFile) -> str:
    """Apply one file's hunks; a hunk whose context is not found is an InputError."""
    lines = original.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for n, hunk in enumerate(pfile, 1):
        old = [ln.value for ln in hunk if ln.line_type in (" ", "-")]
        new = [ln.value for ln in hunk if ln.line_type in (" ", "+")]
        start = _find(lines, old, max(hunk.source_start - 1, 0), pos)
        if start is None:
            raise InputError(f"hunk {n} of {pfile.path} (@@ -{hunk.source_start},"
                             f"{hunk.source_length}) does not apply: its context is not in "
                             "the tree")
        out.extend(lines[pos:start])
        out.extend(new)
        pos = start + len(old)
    out.extend(lines[pos:])
    return "".join(out)


def _find(lines: list[str], old: list[str], hint: int, lo: int, fuzz: int = 200) -> int | None:
    def at(i: int) -> bool:
        return lines[i:i + len(old)] == old or [s.rstrip("\n") for s in lines[i:i + len(old)]] \
            == [s.rstrip("\n") for s in old]

    for delta in range(fuzz + 1):
        for i in (hint + delta, hint - delta):
            if lo <= i <= len(lines) - len(old) and at(i):
                return i
    return None


_PREFIX = re.compile(r"^[ab]/")
_SYMLINK = re.compile(r"^(new file|old|new|deleted file) mode 120000", re.M)


def inside_tree(tree: KernelTree, name: str) -> str:
    """`name`, a path a patch or a git range names, as a normalised path inside the tree.

    A patch is untrusted input (b4 and CI bots run check-patch on mails from a list): a
    name that is absolute, climbs with `..`, or reaches out of the tree through a symbolic
    link is refused before anything is read or written.
    """
    if "\0" in name or not name.strip():
        raise InputError(f"the patch names an invalid path {name!r}")
    pure = PurePosixPath(name)
    if pure.is_absolute():
        raise InputError(f"the patch names an absolute path, {name}; it must stay inside "
                         "the tree")
    if ".." in pure.parts:
        raise InputError(f"the patch names {name}, which climbs out with '..'; it must stay "
                         "inside the tree")
    rel = PurePosixPath(*[p for p in pure.parts if p != "."]) if pure.parts else pure
    if str(rel) in ("", "."):
        raise InputError(f"the patch names an invalid path {name!r}")
    root = tree.root.resolve()
    if not (root / rel).resolve().is_relative_to(root):
        raise InputError(f"the patch names {name}, which leads out of the tree through a "
                         "symbolic link")
    return str(rel)


def _checked_names(tree: KernelTree, pfile: unidiff.PatchedFile) -> str:
    """The tree path of one file of a patch, every name it carries checked."""
    for name in (pfile.source_file, pfile.target_file):
        if name and name != "/dev/null":
            inside_tree(tree, _PREFIX.sub("", name.strip('"'), count=1))
    if _SYMLINK.search(str(pfile.patch_info or "")):
        raise InputError(f"the patch makes {pfile.path} a symbolic link, which check-patch "
                         "does not apply")
    return inside_tree(tree, pfile.path.strip('"'))


def change_from_patch(tree: KernelTree, text: str,
                      state: dict[str, str | None] | None = None) -> Change:
    """The change one patch makes, applied to the tree as earlier patches left it
    (`state`: the files they changed)."""
    state = state or {}
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    patch = parse_patch(text)
    names = [_checked_names(tree, pfile) for pfile in patch]  # all of them, before any read
    for rel, pfile in zip(names, patch, strict=True):
        if pfile.is_binary_file:
            continue  # no C to analyse, nothing to apply
        path = tree.root / rel
        if pfile.is_added_file:
            orig = None
        elif rel in state:
            orig = state[rel]
            if orig is None:
                raise InputError(f"the patch changes {rel}, which an earlier patch removed")
        else:
            try:
                orig = path.read_text()
            except OSError:
                raise InputError(f"the patch changes {rel}, which is not in the tree") from None
        before[rel] = orig
        after[rel] = None if pfile.is_removed_file else apply_file(orig or "", pfile)
    return Change(before, after, {r: t for r, t in state.items() if r not in after})


def change_from_git(tree: KernelTree, rng: str) -> Change:
    if ".." not in rng:
        raise InputError(f"--git takes a range BASE..HEAD, not {rng!r}")
    base, head = rng.split("..", 1)
    head = head or "HEAD"

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(tree.root), *args], capture_output=True,
                              text=True)

    names = git("diff", "--name-only", "--no-renames", base, head)
    if names.returncode != 0:
        raise InputError(f"git cannot diff {rng} in {tree.root}: "
                         f"{names.stderr.strip().splitlines()[-1] if names.stderr else ''}")
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    for rel in [inside_tree(tree, n) for n in names.stdout.splitlines() if n]:
        for rev, table in ((base, before), (head, after)):
            shown = git("show", f"{rev}:{rel}")
            table[rel] = shown.stdout if shown.returncode == 0 else None
    return Change(before, after)


def affected_units(tree: KernelTree, change: Change, session: Session,
                   notes: list[str] | None = None) -> tuple[list[str], int]:
    """Translation units to analyse: changed .c files, and those including a changed header;
    and how many changed files nothing checks (each named in `notes`).

    Which units include a header comes from kbuild's own record (the `deps_` of each
    object's .cmd file); units never built here are asked through phase 1 (cached).
    """
    notes = notes if notes is not None else []
    unchecked = 0
    units = set()
    for r in sorted(change.after):
        if not r.endswith(".c") or (change.after[r] is None and change.before.get(r) is None):
            continue
        src = tree.root / r
        if not tree.recorded(src) and src.exists() and tree.objects.built(src) is False:
            notes.append(f"{r}: not checked: this configuration does not build it")
            continue
        units.add(r)
    headers = {(tree.root / r).resolve(): r for r in change.after if r.endswith(".h")}
    including: dict[str, set[str]] = {h: set() for h in headers.values()}
    if headers and tree.compdb is not None:
        unknown = []
        for f in tree.compdb.files():
            rel = tree.relative(f)
            if not f.endswith(".c"):
                continue
            deps = tree.dependencies(Path(f))
            if deps is None:
                unknown.append(f)
            else:
                for h in deps & headers.keys():
                    including[headers[h]].add(rel)
        outcomes = session.lower([Job.of(tree.compdb.get(f)) for f in unknown])
        for out in outcomes:
            if out.lowered:
                for h in {Path(i).resolve() for i in out.lowered.includes} & headers.keys():
                    including[headers[h]].add(tree.relative(out.job.file))
    for h, users in sorted(including.items()):
        if users:
            shown = ", ".join(sorted(users)[:5]) + (", ..." if len(users) > 5 else "")
            notes.append(f"{h}: checking the {len(users)} unit{'s' if len(users) > 1 else ''} "
                         f"that include it ({shown})")
            units |= users
        else:
            unchecked += 1
            notes.append(f"{h}: not checked: no unit of the compile database includes it "
                         "(kbuild records what each built object includes)")
    return sorted(units), unchecked


def _jobs(tree: KernelTree, units: list[str], files: dict[str, str | None],
          overlay: Path | None) -> list[Job]:
    """Jobs for `units` with `files` overlaid on the tree (no overlay: the tree as it is)."""
    if overlay is not None:
        for rel, text in files.items():
            if text is not None:
                dest = overlay / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(text)
    jobs = []
    # a changed file is parsed against its stored include block (built from the tree as
    # it is), unless the change touches a header that block may include
    preamble = not any(rel.endswith(".h") for rel, text in files.items())
    for rel in units:
        if rel in files and files[rel] is None:
            continue  # the file does not exist on this side
        src = tree.root / rel
        cmd = tree.command_for(src)
        if overlay is None:
            jobs.append(Job.of(cmd))
            continue
        dest = overlay / rel
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(src.read_text())
        args = (*_overlaid(list(cmd.args), tree.root, overlay), "-iquote", str(src.parent))
        jobs.append(Job(str(dest), args, str(src), tuple(cmd.args) if preamble else ()))
    return jobs


def _overlaid(args: list[str], root: Path, overlay: Path) -> list[str]:
    """Each -I into the tree gets the overlay's twin in front of it."""
    out: list[str] = []
    for a in args:
        if a.startswith("-I") and len(a) > 2:
            d = Path(a[2:])
            if d.is_relative_to(root):
                out.append("-I" + str(overlay / d.relative_to(root)))
        out.append(a)
    for i, a in enumerate(out):
        if i and out[i - 1] == "-include" and Path(a).is_relative_to(root):
            twin = overlay / Path(a).relative_to(root)
            if twin.exists():
                out[i] = str(twin)
    return out


def _back(loc: Loc, root: Path, overlay: Path) -> Loc:
    p = Path(loc.file)
    return Loc(str(root / p.relative_to(overlay)), loc.line, loc.col) \
        if p.is_relative_to(overlay) else loc


def _side(tree: KernelTree, units: list[str], files: dict[str, str | None],
          session: Session, overlay: Path | None) -> RunResult:
    res = session.run(_jobs(tree, units, files, overlay))
    if overlay is not None:
        for f in res.findings + res.elsewhere:
            f.loc = _back(f.loc, tree.root, overlay)
            f.notes = [(_back(loc, tree.root, overlay), text) for loc, text in f.notes]
    return res


def new_findings(tree: KernelTree, change: Change, session: Session) -> PatchResult:
    tree.derive = True  # a changed file the database does not know: kbuild's own flags
    notes: list[str] = []
    units, unchecked = affected_units(tree, change, session, notes)
    if not units:
        return PatchResult([], [], notes, unchecked)
    # a patch applies to the tree as it is: its before side is the tree itself (cached)
    unchanged = not change.context and all(
        (tree.root / rel).is_file() and (tree.root / rel).read_text() == text
        if text is not None else not (tree.root / rel).exists()
        for rel, text in change.before.items())
    with tempfile.TemporaryDirectory(prefix="rcucheck-before-") as b, \
            tempfile.TemporaryDirectory(prefix="rcucheck-after-") as a:
        before = _side(tree, units, {**change.context, **change.before}, session,
                       None if unchanged else Path(b))
        after = _side(tree, units, {**change.context, **change.after}, session, Path(a))
    # findings in units the change does not touch, but whose callees it changes (the
    # store's whole-tree analysis knows them), count as well
    known = {f.fingerprint for f in before.findings + before.elsewhere}
    added = [f for f in after.findings + after.elsewhere if f.fingerprint not in known]
    failed = [("before", u) for u in before.failed] + [("after", u) for u in after.failed]
    return PatchResult(added, failed, notes, unchecked)


def check_series(tree: KernelTree, mails: list[Mail], session: Session
                 ) -> list[tuple[Mail, PatchResult]]:
    """Each patch on top of the ones before it, as `git am` applies a series: a finding
    belongs to the patch that introduces it."""
    state: dict[str, str | None] = {}
    out = []
    for mail in mails:
        try:
            change = change_from_patch(tree, mail.text, state)
        except InputError as exc:
            raise InputError(f"{mail.title}: {exc}" if mail.title else str(exc)) from None
        out.append((mail, new_findings(tree, change, session)))
        state = {**state, **change.after}
    return out
