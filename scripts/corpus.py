"""rcucheck's corpus of real fixes: recall on bugs that upstream fixed, undone in 6.12.

Each entry of bench/corpus/*.json is a real upstream fix of an RCU or reference-count
bug, recreated as a text substitution in the 6.12 tree (bench/corpus/README.md).
`--verify` checks the corpus itself: every field, every `find` unique in its file and
inside its function, every mutant compiling with kbuild's own flags for that file
(the object is made once, which also records the flags rcucheck then uses, then the
mutant is compiled with -fsyntax-only).  Without `--verify`, each mutant is scanned
on its own, as a developer scans the file a patch touches, and the bug counts as found
when the mutated function, or a caller whose message names it, gets a warning of an
expected rule that the unmutated file does not have.  The split into dev and test is
a hash of the entry's id, fixed once: work on dev, report test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutate import scan_alone

from analyzer.build.symbols import DefinitionIndex
from analyzer.build.tree import KernelTree
from analyzer.driver import follow as follow_mod
from analyzer.driver import store as storage
from analyzer.driver.phase1 import Job
from analyzer.driver.session import Budget, Session
from analyzer.errors import InputError
from analyzer.frontend import clang as clangsetup
from analyzer.ir import Finding
from analyzer.model import ApiModel
from checkers import checker_classes, exceptions_check

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus"
FIELDS = ("id", "subsystem", "file", "function", "find", "replace", "expect", "commit",
          "subject", "year", "source", "kind", "note")
KINDS = ("historical", "analog")


def split_of(entry_id: str) -> str:
    """The entry's half, from its id alone: fixed once, never chosen."""
    return "test" if hashlib.sha256(entry_id.encode()).digest()[0] & 1 else "dev"


@dataclass
class Entry:
    id: str
    subsystem: str
    file: str
    function: str
    find: str
    replace: str
    expect: list[str]
    commit: str | None
    subject: str
    year: int
    source: str
    kind: str
    note: str
    origin: str = ""  # the JSON file it came from

    @property
    def split(self) -> str:
        return split_of(self.id)

    @property
    def rule(self) -> str:
        """The primary rule (the first expected), for per-rule tables."""
        return self.expect[0]


@dataclass
class Result:
    entry: Entry
    found: bool = False
    error: str = ""
    hits: list[str] = field(default_factory=list)        # the findings that found it
    other: list[str] = field(default_factory=list)       # new warnings of other rules
    notes_only: bool = False
    fixed_alarms: list[str] = field(default_factory=list)  # warnings on the fixed function
    # found only because these turned-off exceptions did not silence it (--disable-exception)
    hidden_by: list[str] = field(default_factory=list)


def load(corpus: Path = CORPUS) -> tuple[list[Entry], list[str]]:
    """Every entry, and a sentence for each that is malformed (never dropped silently)."""
    entries: list[Entry] = []
    problems: list[str] = []
    for path in sorted(corpus.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            problems.append(f"{path.name}: not valid JSON ({exc})")
            continue
        if not isinstance(data, list):
            problems.append(f"{path.name}: not a list of entries")
            continue
        for i, raw in enumerate(data):
            missing = [k for k in FIELDS if not isinstance(raw, dict) or k not in raw]
            if missing:
                problems.append(f"{path.name}[{i}]: missing {', '.join(missing)}")
                continue
            entries.append(Entry(**{k: raw[k] for k in FIELDS}, origin=path.name))
    return entries, problems


def function_span(text: str, name: str, pos: int) -> bool:
    """Does offset `pos` lie inside the body of the definition of `name`?"""
    for m in re.finditer(r"^(?:[A-Za-z_][^;{}]*?\b)?" + re.escape(name) + r"\s*\(", text,
                         re.M):
        if m.start() > pos:
            break
        brace = text.find("{", m.end())
        semi = text.find(";", m.end())
        if brace < 0 or (0 <= semi < brace and text[m.end():semi].count("(") <=
                         text[m.end():semi].count(")") - 1):
            continue  # a declaration
        depth, i = 0, brace
        while i < len(text):
            c = text[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        if brace < pos < i:
            return True
    return False


def check_text(tree: KernelTree, entries: list[Entry], rules: set[str]) -> dict[str, str]:
    """Problems of each entry that the text alone shows: id -> sentence."""
    bad: dict[str, str] = {}
    seen: Counter = Counter(e.id for e in entries)
    for e in entries:
        why = []
        if seen[e.id] > 1:
            why.append("its id is not unique")
        if e.id != e.id.lower() or not re.fullmatch(r"[a-z0-9_.-]+", e.id):
            why.append("its id is not lowercase letters, digits, '-', '_' and '.'")
        unknown = [r for r in e.expect if r not in rules]
        if not e.expect or unknown:
            why.append(f"expect names no rule or an unknown one ({', '.join(unknown)})")
        if e.kind not in KINDS:
            why.append(f"kind {e.kind!r} is neither historical nor analog")
        if e.find == e.replace:
            why.append("replace equals find")
        if not e.file.endswith(".c"):
            why.append("the file is not a .c file")
        path = tree.root / e.file
        try:
            text = path.read_text()
        except OSError:
            why.append(f"{e.file} is not in the tree")
            bad[e.id] = "; ".join(why)
            continue
        n = text.count(e.find)
        if n != 1:
            why.append(f"find occurs {n} times in {e.file}")
        elif not function_span(text, e.function, text.index(e.find)):
            why.append(f"find is not inside {e.function}()")
        if why:
            bad[e.id] = "; ".join(why)
    return bad


def mutant_text(tree: KernelTree, e: Entry) -> str:
    text = (tree.root / e.file).read_text()
    return text.replace(e.find, e.replace, 1)


def build_objects(tree: KernelTree, files: list[str], jobs: int) -> dict[str, str]:
    """Make each file's object once (kbuild records its flags); file -> error."""
    missing = [f for f in files if not tree.recorded(tree.root / f)]
    errors: dict[str, str] = {}
    if not missing:
        return errors
    objs = [str(Path(f).with_suffix(".o")) for f in missing]
    print(f"corpus: making {len(objs)} objects once to record kbuild's flags", file=sys.stderr)
    subprocess.run(["make", "-s", "-k", f"-j{jobs}", *objs], cwd=tree.root,
                   capture_output=True, text=True)
    for f in missing:
        if not tree.recorded(tree.root / f):
            errors[f] = "kbuild did not build its object in this configuration"
    return errors


def syntax_command(tree: KernelTree, src: str, mutant: Path) -> list[str]:
    """kbuild's compile command for `src`, made to check `mutant` for syntax only."""
    cmd = tree.command_for(tree.root / src)
    args = list(cmd.argv)
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        if a == "-o":
            skip = True
            continue
        if a == "-c" or a.startswith(("-Wp,-MMD", "-Wp,-MD")):
            continue
        if a in (src, str(tree.root / src)):
            continue
        out.append(a)
    return [*out, "-fsyntax-only", "-iquote", str((tree.root / src).parent), str(mutant)]


def verify(tree: KernelTree, entries: list[Entry], problems: list[str], rules: set[str],
           jobs: int) -> int:
    bad = check_text(tree, entries, rules)
    ok = [e for e in entries if e.id not in bad]
    unbuilt = build_objects(tree, sorted({e.file for e in ok}), jobs)
    for e in ok:
        if e.file in unbuilt:
            bad[e.id] = unbuilt[e.file]
    ok = [e for e in ok if e.id not in bad]

    def compile_one(e: Entry) -> tuple[str, str]:
        with tempfile.TemporaryDirectory(prefix="rcucheck-corpus-") as tmp:
            mutant = Path(tmp) / Path(e.file).name
            mutant.write_text(mutant_text(tree, e))
            argv = syntax_command(tree, e.file, mutant)
            res = subprocess.run(argv, cwd=tree.root, capture_output=True, text=True)
            if res.returncode != 0:
                err = [ln for ln in res.stderr.splitlines() if "error" in ln][:1]
                return e.id, "the mutant does not compile: " + (
                    err[0].split(": ", 1)[-1] if err else res.stderr.strip()[-200:])
            return e.id, ""

    with ThreadPoolExecutor(max(jobs, 1)) as pool:
        for eid, why in pool.map(compile_one, ok):
            if why:
                bad[eid] = why
    for p in problems:
        print(f"corpus: {p}")
    for e in entries:
        if e.id in bad:
            print(f"corpus: {e.origin}: {e.id}: {bad[e.id]}")
    good = [e for e in entries if e.id not in bad]
    subsystems = {e.subsystem for e in good}
    per_rule = Counter(r for e in good for r in e.expect)
    print(f"{len(good)} of {len(entries)} entries verified, {len(subsystems)} subsystems; "
          f"{len(problems)} malformed")
    print("entries per rule (an entry counts for each rule it expects): " +
          ", ".join(f"{r} {per_rule.get(r, 0)}" for r in sorted(rules)))
    print(f"splits: dev {sum(e.split == 'dev' for e in good)}, "
          f"test {sum(e.split == 'test' for e in good)}")
    return 1 if bad or problems else 0


# --- scoring ------------------------------------------------------------------------------

def _warnings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.level != "note"]


def _show(f: Finding) -> str:
    return f"{f.rule} in {f.function}(): {f.message}"


def score_file(tree: KernelTree, session: Session, rel: str,
               entries: list[Entry]) -> list[Result]:
    src = tree.root / rel
    cmd = tree.command_for(src)
    with tempfile.TemporaryDirectory(prefix="rcucheck-corpus-") as tmp:
        jobs = [Job.of(cmd)]
        for i, e in enumerate(entries):
            path = Path(tmp) / f"{i}_{src.name}"
            path.write_text(mutant_text(tree, e))
            jobs.append(Job(str(path), (*cmd.args, "-iquote", str(src.parent)), str(src)))
        outs = session.lower(jobs)
    base_out, mutant_outs = outs[0], outs[1:]
    if base_out.lowered is None:
        return [Result(e, error=f"the fixed file does not parse: {base_out.error}")
                for e in entries]
    followed: dict = {}
    base = scan_alone(session, base_out.lowered, followed)
    base_fp = Counter(f.fingerprint for f in base)
    results = []
    for e, out in zip(entries, mutant_outs, strict=True):
        r = Result(e, fixed_alarms=[_show(f) for f in _warnings(base)
                                     if f.function == e.function])
        if out.lowered is None:
            r.error = f"the mutant does not parse: {out.error}"
            results.append(r)
            continue
        left = Counter(base_fp)
        new = []
        for f in scan_alone(session, out.lowered, followed):
            if left[f.fingerprint] > 0:
                left[f.fingerprint] -= 1
            else:
                new.append(f)
        about = [f for f in new if f.function == e.function
                 or re.search(rf"\b{re.escape(e.function)}\b", f.message)]
        hits = [f for f in _warnings(about) if f.rule in e.expect]
        r.found = bool(hits)
        r.hits = [_show(f) for f in hits]
        if hits and all(f.waived_by for f in hits):
            r.hidden_by = sorted({x for f in hits for x in f.waived_by})
        r.other = [_show(f) for f in _warnings(new) if f.rule not in e.expect]
        r.notes_only = not hits and any(f.rule in e.expect for f in about)
        results.append(r)
    return results


def score(tree: KernelTree, session: Session, entries: list[Entry],
          verbose: bool) -> list[Result]:
    by_file: dict[str, list[Entry]] = defaultdict(list)
    for e in entries:
        by_file[e.file].append(e)
    unbuilt = build_objects(tree, sorted(by_file), session.workers)
    results: list[Result] = []
    for n, (rel, group) in enumerate(sorted(by_file.items()), 1):
        if rel in unbuilt:
            results += [Result(e, error=unbuilt[rel]) for e in group]
            continue
        try:
            got = score_file(tree, session, rel, group)
        except InputError as exc:
            got = [Result(e, error=str(exc)) for e in group]
        results += got
        if verbose:
            for r in got:
                print(f"  [{n}/{len(by_file)}] {r.entry.id}: "
                      f"{'found' if r.found else 'MISSED'}", file=sys.stderr)
    return results


def _ratio(rs: list[Result]) -> str:
    found = sum(r.found for r in rs)
    return f"{found}/{len(rs)} {100 * found / len(rs):5.1f}%" if rs else "-"


def report(results: list[Result], misses: bool, seconds: float) -> None:
    def table(title: str, key) -> None:
        groups: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            groups[key(r)].append(r)
        print(f"\n{title:28} {'dev':>14} {'test':>14} {'all':>14}")
        for k in sorted(groups):
            rs = groups[k]
            print(f"{k:28} {_ratio([r for r in rs if r.entry.split == 'dev']):>14} "
                  f"{_ratio([r for r in rs if r.entry.split == 'test']):>14} {_ratio(rs):>14}")

    table("rule (first expected)", lambda r: r.entry.rule)
    table("subsystem", lambda r: r.entry.subsystem)
    print(f"\n{'all':28} {_ratio([r for r in results if r.entry.split == 'dev']):>14} "
          f"{_ratio([r for r in results if r.entry.split == 'test']):>14} "
          f"{_ratio(results):>14}   in {seconds:.0f} s")
    errors = [r for r in results if r.error]
    if errors:
        print(f"\n{len(errors)} entries could not be scored:")
        for r in errors:
            print(f"  {r.entry.id}: {r.error}")
    hidden = Counter(x for r in results if r.found for x in r.hidden_by)
    if hidden:
        print("\nfound only because an exception was off (the bugs each one hides):")
        for exc, n in sorted(hidden.items()):
            ids = [r.entry.id for r in results if exc in r.hidden_by]
            print(f"  {exc}: {n} ({', '.join(ids)})")
    alarms = [r for r in results if r.fixed_alarms]
    unique = list(dict.fromkeys((r.entry.file, a) for r in alarms for a in r.fixed_alarms))
    print(f"\nfalse alarms on the fixed code: {len(unique)} warnings in "
          f"{len({(r.entry.file, r.entry.function) for r in alarms})} fixed functions")
    for file, a in unique:
        print(f"  {file}: {a}")
    if misses:
        missed = [r for r in results if not r.found and not r.error]
        print(f"\nmissed ({len(missed)}):")
        for r in missed:
            e = r.entry
            extra = " (note only)" if r.notes_only else ""
            other = f"; reported instead: {' | '.join(r.other)}" if r.other else ""
            print(f"  [{e.split}] {e.id} {e.file} {e.function}() expect "
                  f"{','.join(e.expect)}{extra}{other}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", required=True, help="configured kernel tree")
    ap.add_argument("--corpus", default=str(CORPUS), help="directory of the corpus's JSON files")
    ap.add_argument("--verify", action="store_true", help="check the corpus, scan nothing")
    ap.add_argument("--split", choices=("dev", "test", "all"), default="all")
    ap.add_argument("--subsystem", help="only entries whose subsystem starts with this")
    ap.add_argument("--rule", help="only entries that expect this rule")
    ap.add_argument("--ids", help="only these entries (comma-separated ids)")
    ap.add_argument("--misses", action="store_true", help="list every entry not found")
    ap.add_argument("--json", help="write each entry's result to this file")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="N parses at once")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per entry")
    ap.add_argument("--follow", type=int, default=follow_mod.DEFAULT_FILES, metavar="N",
                    help="other files followed per scanned file, as `rcucheck scan "
                         "--follow` (0: off)")
    ap.add_argument("--disable-exception", action="append", default=[], metavar="ID",
                    help="turn off a registered exception (repeatable; 'all'): what it "
                         "hides shows as entries found")
    args = ap.parse_args(argv)
    try:
        tree = KernelTree.open(args.tree)
        tree.derive = True
        entries, problems = load(Path(args.corpus))
        rules = {c.rule.id for c in checker_classes()}
        if args.ids:
            wanted = set(args.ids.split(","))
            entries = [e for e in entries if e.id in wanted]
        if args.subsystem:
            entries = [e for e in entries if e.subsystem.startswith(args.subsystem)]
        if args.rule:
            entries = [e for e in entries if args.rule in e.expect]
        if args.split != "all":
            entries = [e for e in entries if e.split == args.split]
        if not entries:
            raise InputError("no corpus entry matches")
        if args.verify:
            return verify(tree, entries, problems, rules, args.jobs)
        bad = check_text(tree, entries, rules)
        for eid, why in bad.items():
            print(f"corpus: {eid} left out: {why} (scripts/corpus --verify)", file=sys.stderr)
        entries = [e for e in entries if e.id not in bad]
        clangsetup.load()
        try:
            off = exceptions_check(args.disable_exception)
        except KeyError as exc:
            raise InputError(f"no registered exception {exc.args[0]}") from None
        session = Session(ApiModel.load(), checker_classes(), workers=args.jobs,
                          rel=tree.relative, budget=Budget(disabled=off))
        if args.follow:
            session.follow = follow_mod.Follow(
                tree, DefinitionIndex.open(tree.root, storage.default_dir()),
                files_per_unit=args.follow)
        t0 = time.perf_counter()
        results = score(tree, session, entries, args.verbose)
    except InputError as exc:
        print(f"corpus: {exc}", file=sys.stderr)
        return 2
    report(results, args.misses, time.perf_counter() - t0)
    if args.json:
        Path(args.json).write_text(json.dumps(
            [{"id": r.entry.id, "split": r.entry.split, "rule": r.entry.rule,
              "subsystem": r.entry.subsystem, "found": r.found, "error": r.error,
              "hits": r.hits, "other": r.other, "notes_only": r.notes_only,
              "fixed_alarms": r.fixed_alarms, "hidden_by": r.hidden_by} for r in results],
            indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
