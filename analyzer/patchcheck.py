"""Pre-submit checking: the findings a change introduces, and only those.

The change is a patch (a `git format-patch` mail or a plain unified diff, parsed
with unidiff) or a git range.  Nothing in the user's tree is touched: the changed
files are written into a temporary overlay whose include directories take
precedence over the tree's, and every affected translation unit is parsed from
the overlay with the tree's own flags.  Before and after are analysed in one
program each (so summaries see through the changed helpers), and findings are
matched by their line-free fingerprint: a finding is new if the change adds it,
wherever it is, including a caller whose helper lost its rcu_read_lock().
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import unidiff

from analyzer.analysis import Program
from analyzer.errors import InputError
from analyzer.findings import Finding
from analyzer.flags import translate
from analyzer.frontend import parse_file
from analyzer.model import ApiModel
from analyzer.report_sarif import line_free_fingerprint
from analyzer.tree import KernelTree

_INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


@dataclass
class Change:
    """Changed files: tree-relative path -> text before and after (None: absent)."""

    before: dict[str, str | None]
    after: dict[str, str | None]


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


def change_from_patch(tree: KernelTree, text: str) -> Change:
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    for pfile in parse_patch(text):
        rel = pfile.path
        path = tree.root / rel
        if pfile.is_added_file:
            orig = None
        else:
            try:
                orig = path.read_text()
            except OSError:
                raise InputError(f"the patch changes {rel}, which is not in the tree") from None
        before[rel] = orig
        after[rel] = None if pfile.is_removed_file else apply_file(orig or "", pfile)
    return Change(before, after)


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
    for rel in names.stdout.split():
        for rev, table in ((base, before), (head, after)):
            shown = git("show", f"{rev}:{rel}")
            table[rel] = shown.stdout if shown.returncode == 0 else None
    return Change(before, after)


def affected_units(tree: KernelTree, change: Change) -> list[str]:
    """Translation units to analyse: changed .c files, and those including a changed header."""
    units = [r for r in change.after if (r.endswith(".c") and change.after[r] is not None)
             or (r.endswith(".c") and change.before.get(r) is not None)]
    headers = {r for r in change.after if r.endswith(".h")}
    if headers and tree.compdb is not None:
        names = {Path(h).name for h in headers}
        for f in tree.compdb.files():
            rel = tree.relative(f)
            if rel in units or not f.endswith(".c"):
                continue
            try:
                text = Path(f).read_text(errors="replace")
            except OSError:
                continue
            if any(Path(inc).name in names for inc in _INCLUDE.findall(text)):
                units.append(rel)
    return sorted(set(units))


def _analyse(tree: KernelTree, units: list[str], files: dict[str, str | None], overlay: Path,
             model: ApiModel) -> list[Finding]:
    """Analyse `units` with `files` overlaid on the tree; paths come back tree-relative."""
    for rel, text in files.items():
        if text is not None:
            dest = overlay / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(text)
    prog = Program(model)
    for rel in units:
        src = tree.root / rel
        dest = overlay / rel
        if rel in files and files[rel] is None:
            continue  # the file does not exist on this side
        if not dest.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(src.read_text())
        cmd = tree.command_for(src) if tree.compdb is None or str(src) in tree.compdb \
            else None
        if cmd is None:
            continue
        args = _overlaid(translate(list(cmd.argv), cmd.directory, cmd.file).args, tree.root,
                         overlay)
        parsed = parse_file(dest, [*args, "-iquote", str(src.parent)])
        if parsed.errors:
            first = parsed.errors[0]
            raise InputError(f"{rel} does not parse with the change applied (line "
                             f"{first.line}: {first.message})")
        prog.add(parsed)
    results = prog.analyze()
    out = []
    for res in results.values():
        for f in res.findings:
            f.loc = type(f.loc)(_back(f.loc.file, tree.root, overlay), f.loc.line, f.loc.col)
            f.notes = [(type(loc)(_back(loc.file, tree.root, overlay), loc.line, loc.col), t)
                       for loc, t in f.notes]
            out.append(f)
    return out


def _back(path: str, root: Path, overlay: Path) -> str:
    p = Path(path)
    return str(root / p.relative_to(overlay)) if p.is_relative_to(overlay) else path


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


def new_findings(tree: KernelTree, change: Change, model: ApiModel) -> list[Finding]:
    units = affected_units(tree, change)
    if not units:
        return []
    with tempfile.TemporaryDirectory(prefix="rcucheck-before-") as b, \
            tempfile.TemporaryDirectory(prefix="rcucheck-after-") as a:
        before = _analyse(tree, units, change.before, Path(b), model)
        after = _analyse(tree, units, change.after, Path(a), model)

    def key(f: Finding) -> str:
        return line_free_fingerprint(f, tree.relative(f.loc.file))

    budget = Counter(key(f) for f in before)
    added = []
    for f in sorted(after, key=Finding.sort_key):
        k = key(f)
        if budget[k] > 0:
            budget[k] -= 1
        else:
            added.append(f)
    return added
