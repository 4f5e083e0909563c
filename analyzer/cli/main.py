"""The `rcucheck` command line: parses arguments, builds a `Session`, prints what it found.

Only this layer knows the checkers (it hands their classes to the driver) and
only this layer prints.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import click

from analyzer import __version__
from analyzer.build.symbols import DefinitionIndex
from analyzer.build.tree import KernelTree
from analyzer.cli import config as runconfig
from analyzer.cli.progress import Progress
from analyzer.cli.progress import wanted as progress_wanted
from analyzer.driver import follow as follow_mod
from analyzer.driver import policy
from analyzer.driver import store as storage
from analyzer.driver.phase1 import Job
from analyzer.driver.session import Budget, RunResult, Session
from analyzer.errors import InputError
from analyzer.frontend import clang as clangsetup
from analyzer.frontend import deepstack
from analyzer.ir import dump
from analyzer.model import ApiModel
from analyzer.report import fingerprints
from analyzer.report import graph as graph_export
from analyzer.report.outfile import write_atomic
from analyzer.report.suppressions import Suppressions
from analyzer.report.suppressions import draft as draft_suppressions
from analyzer.report.text import format_finding
from checkers import (
    REGISTRY,
    checker_classes,
    early_exit_kinds,
    exception_registry,
    exceptions_check,
)

MAX_DIAGS_PER_FILE = 5
# the stored preambles, beside the store (see analyzer/frontend/preamble.py)
PREAMBLES = "preambles"


class _Group(click.Group):
    """Turns InputError into one sentence and exit 2, wherever it is raised."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            click.echo(f"rcucheck: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # the reader went away (`| head`): stop quietly, as a pipeline expects
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(141)
        except Exception as exc:  # a bug of ours: one sentence, not a traceback
            where = traceback.extract_tb(exc.__traceback__)[-1]
            click.echo(f"rcucheck: internal error: {type(exc).__name__}: {exc} "
                       f"(at {Path(where.filename).name}:{where.lineno}); please report it",
                       err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rcucheck")
@click.option("--libclang", "libclang", metavar="PATH", envvar=clangsetup.ENV_VAR,
              help=f"libclang shared library to use (also ${clangsetup.ENV_VAR}); "
                   "newer kernels need libclang >= 19.")
@click.pass_context
def main(ctx: click.Context, libclang: str | None) -> None:
    """Static checker for the Linux kernel's RCU and reference-count discipline."""
    ctx.obj = {"libclang": libclang}
    # SIGTERM (timeout, a CI runner, job control) ends the run as Ctrl-C does: output
    # files stay whole (they are written atomically) and no worker is left behind
    signal.signal(signal.SIGTERM, _terminated)


def _terminated(signum, frame) -> None:
    raise SystemExit(128 + signum)


# --- shared options -----------------------------------------------------------------------

def _tree_options(f):
    f = click.option("--derive-flags", is_flag=True,
                     help="Files missing from the compile database: use kbuild's .o.cmd "
                          "file, or flags derived from the configured tree.")(f)
    f = click.option("-p", "--compile-commands", "compdb", metavar="PATH",
                     help="compile_commands.json to use (default: the tree's own, if any).")(f)
    return click.option("--tree", "tree_dir", metavar="DIR", envvar="RCUCHECK_TREE",
                        help="Configured kernel tree (also $RCUCHECK_TREE).")(f)


def _model_option(f):
    return click.option("--model", "models", multiple=True, metavar="FILE",
                        help="Extra API model file (TOML); later files override earlier "
                             "entries.")(f)


def _phase1_options(f):
    f = click.option("-q", "--quiet", is_flag=True,
                     help="No progress bar (there is none when stderr is not a terminal).")(f)
    f = click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1),
                     help="Parse and lower this many translation units at once.")(f)
    f = click.option("--follow", "follow", default=follow_mod.DEFAULT_FILES,
                     show_default=True, type=click.IntRange(0), metavar="N",
                     expose_value=False, callback=_meta,
                     help="Per analysed file, parse up to N other files of the tree that "
                          "define functions it calls and nothing describes, for their "
                          "summaries (needs universal-ctags; 0: off).")(f)
    f = click.option("--scheduler", metavar="ADDR", envvar="RCUCHECK_DASK_SCHEDULER",
                     expose_value=False, callback=_meta,
                     help="With --executor dask: the scheduler (tcp://HOST:PORT); without "
                          "it a local cluster of -j workers is started.")(f)
    f = click.option("--executor", type=click.Choice(["local", "dask"]), default="local",
                     show_default=True, expose_value=False, callback=_meta,
                     help="Where map and check tasks run: forked local processes, or Dask "
                          "(pip install 'rcucheck[cluster]').")(f)
    f = click.option("--summaries", metavar="[FILE]", is_flag=False, flag_value="default",
                     envvar="RCUCHECK_SUMMARIES", expose_value=False, callback=_meta,
                     help="See the rest of the tree through the whole-tree analysis kept "
                          "in the store (the one in --cache-dir, or FILE): callers and "
                          "callees in files this run does not analyse.")(f)
    f = click.option("--cache-dir", metavar="DIR", envvar="RCUCHECK_CACHE",
                     expose_value=False, callback=_meta,
                     help="Where the store lives (default: ~/.cache/rcucheck).")(f)
    return click.option("--cache/--no-cache", default=True, show_default=True,
                        help="Keep results in the store and reuse what did not change; "
                             "--no-cache keeps nothing between runs.")(f)


def _exceptions_off(ctx: click.Context, param: click.Parameter, value):
    try:
        ctx.meta["disable_exception"] = exceptions_check(value)
    except KeyError as exc:
        raise InputError(f"no registered exception {exc.args[0]} (rcucheck exceptions "
                         "lists them)") from None
    return value


def _run_control(f):
    """--disable, --disable-exception, --min-confidence and --config: which rules run,
    which of their registered exceptions apply, which findings are shown, and the
    project's configuration file."""
    f = click.option("--disable-exception", "disable_exception", multiple=True,
                     metavar="ID", expose_value=False, callback=_exceptions_off,
                     help="Turn off this registered exception of a rule (repeatable; "
                          "'all' for every one; rcucheck exceptions lists them).")(f)
    f = click.option("--min-confidence", "min_confidence", expose_value=False,
                     type=click.Choice(["low", "medium", "high"]), callback=_meta,
                     help="Leave out findings whose evidence is weaker: high rests on the "
                          "model and analysed bodies, medium on what the function's own "
                          "code suggests of a callee (a release on another path), low on "
                          "a long chain of calls.")(f)
    f = click.option("--config", "config", metavar="FILE", envvar="RCUCHECK_CONFIG",
                     expose_value=False, callback=_meta,
                     help=f"Configuration file (default: the tree's {runconfig.FILE_NAME}, "
                          "if any): rules, disable, fail-on, model, suppress.")(f)
    return click.option("--disable", "disable", multiple=True, metavar="ID",
                        expose_value=False, callback=_meta,
                        help="Do not run this rule (repeatable).")(f)


def _libclang_after(f):
    """--libclang is a global option; it is taken after the subcommand too."""
    def keep(ctx: click.Context, param: click.Parameter, value):
        if value:
            ctx.obj["libclang"] = value
        return value
    return click.option("--libclang", metavar="PATH", expose_value=False, callback=keep,
                        is_eager=True, help="libclang shared library to use (as before the "
                                            "subcommand).")(f)


def _settings(ctx: click.Context, tree_root: Path | None, rules, models, suppress,
              fail_on: str | None = None):
    """Rules, model files, suppressions and fail-on, the command line over the config."""
    cfg = runconfig.load(ctx.meta.get("config"), tree_root)
    where = f" in {cfg.path}" if cfg.path else ""
    # a rule named with -r runs even where the file disables it
    chosen = runconfig.select_rules(set(REGISTRY), list(rules) or cfg.rules,
                                    [*(d for d in cfg.disable if d not in rules),
                                     *(ctx.meta.get("disable") or ())],
                                    where if not rules else "")
    if fail_on is not None and cfg.fail_on and \
            ctx.get_parameter_source("fail_on") is click.core.ParameterSource.DEFAULT:
        fail_on = cfg.fail_on
    sup_file = suppress or cfg.suppress
    sup = Suppressions.load(sup_file) if sup_file else None
    if sup is not None:
        for i, s in enumerate(sup.entries, 1):
            if s.rule is not None and s.rule not in REGISTRY:
                click.echo(f"rcucheck: suppressions {sup.source}, entry {i}: no rule "
                           f"{s.rule}{runconfig.did_you_mean(s.rule, REGISTRY)}; it can "
                           "match nothing", err=True)
    return chosen, [*cfg.models, *models], sup, fail_on


def _unused_suppressions(sup: Suppressions | None, findings, rel) -> None:
    if sup is None:
        return
    for i, s in enumerate(sup.entries, 1):
        if (s.rule is None or s.rule in REGISTRY) and \
                not any(s.matches(f, rel) for f in findings):
            what = s.fingerprint or f"{s.rule} in {s.function}()"
            click.echo(f"rcucheck: suppressions {sup.source}, entry {i} ({what}) matched "
                       "no finding of this run", err=True)


def _meta(ctx: click.Context, param: click.Parameter, value):
    ctx.meta[param.name] = value
    return value


def _summaries(ctx: click.Context) -> str | None:
    """`--summaries`, or for `kbuild` (which takes kbuild's arguments) the environment's."""
    if "summaries" in ctx.meta:
        return ctx.meta["summaries"]
    return os.environ.get("RCUCHECK_SUMMARIES") or None


def _store_path(ctx: click.Context, cache: bool) -> Path | None:
    """The store file a run uses, or None for a temporary one."""
    summaries = _summaries(ctx)
    if summaries not in (None, "default"):
        return Path(summaries)
    if not cache:
        return None
    return Path(ctx.meta.get("cache_dir") or storage.default_dir()) / storage.FILE_NAME


def _open_tree(tree_dir: str | None, compdb: str | None, derive: bool = False) -> KernelTree:
    if not tree_dir:
        found = KernelTree.find(Path.cwd())
        tree_dir = str(found) if found is not None else None
    if not tree_dir:
        raise InputError("no kernel tree given and none around the current directory: "
                         "pass --tree DIR or set RCUCHECK_TREE "
                         "(scripts/get-kernel provisions one)")
    tree = KernelTree.open(tree_dir, compdb)
    tree.derive = derive
    return tree


def _session(ctx: click.Context, models, rules=None, jobs: int = 1, cache: bool = True,
             rel=str, quiet: bool = True, tree: Path | None = None) -> Session:
    model = ApiModel.load(list(models))
    rules = runconfig.select_rules(set(REGISTRY), list(rules or ()), [])
    clangsetup.load(ctx.obj["libclang"])
    return Session(model, checker_classes(list(rules) if rules else None), jobs,
                   _store_path(ctx, cache), ctx.obj["libclang"], rel,
                   progress=Progress(rel) if progress_wanted(quiet) else None,
                   executor=ctx.meta.get("executor") or "local",
                   scheduler=ctx.meta.get("scheduler"),
                   tree=str(tree) if tree is not None and _store_path(ctx, cache) else None,
                   consult=bool(_summaries(ctx)),
                   budget=Budget(disabled=ctx.meta.get("disable_exception", frozenset())),
                   min_confidence=ctx.meta.get("min_confidence") or "low",
                   # the include blocks of files being worked on, parsed once and kept
                   # beside the store (see frontend/preamble)
                   preambles=str(Path(ctx.meta.get("cache_dir") or storage.default_dir()) /
                                 PREAMBLES) if cache else None)


def _follow(ctx: click.Context, session: Session, tree: KernelTree) -> None:
    """Let the session follow callees into the tree's other files (`--follow`)."""
    n = ctx.meta.get("follow", follow_mod.DEFAULT_FILES)
    if not n:
        return
    cache_dir = Path(ctx.meta.get("cache_dir") or storage.default_dir())
    try:
        if not (cache_dir / "symbols").is_dir():
            click.echo("rcucheck: indexing the tree's definitions once (ctags, under a "
                       "minute)", err=True)
        index = DefinitionIndex.open(tree.root, cache_dir)
    except InputError as exc:
        click.echo(f"rcucheck: note: {exc}", err=True)
        return
    session.follow = follow_mod.Follow(tree, index, files_per_unit=n)


def _sources(tree: KernelTree, files: list[str]) -> list[Path]:
    """The files to analyse; those this configuration does not build are named and
    skipped, and an error only when nothing is left."""
    sources = tree.expand(files)
    for note in tree.notes:
        click.echo(f"rcucheck: {note}", err=True)
    for path, why in tree.skipped:
        click.echo(f"{tree.relative(path)}: skipped: {why}", err=True)
    if not sources:
        raise InputError(f"nothing to analyse: this configuration builds none of "
                         f"{', '.join(files)}")
    if tree.derive or tree.compdb is None:
        tree.ask_kbuild(sources)  # one `make -n` for every file without recorded flags
    return sources


def _sarif():
    """SARIF (and sarif-om) loads only for the commands that write it."""
    from analyzer.report import sarif
    return sarif


def _html():
    from analyzer.report import html
    return html


def _emit(text: str, output: str | None) -> None:
    if output:
        write_atomic(Path(output), text)
    else:
        click.echo(text, nl=False)


def _report_units(tree: KernelTree, res: RunResult, stats: bool = False) -> list:
    """Notes on stderr for units not analysed (and problems in those that were); the
    SARIF notifications that go with them."""
    notifications = []
    for unit in res.units:
        rel = tree.relative(unit.name)
        if not unit.analysed:
            errs = unit.outcome.parse_errors or []
            for d in errs[:MAX_DIAGS_PER_FILE]:
                where = tree.relative(d.file) if d.file else rel
                click.echo(f"{where}:{d.line}:{d.column}: parse {d.severity}: {d.message}",
                           err=True)
            if len(errs) > MAX_DIAGS_PER_FILE:
                click.echo(f"{rel}: ... and {len(errs) - MAX_DIAGS_PER_FILE} more parse "
                           "errors", err=True)
            click.echo(f"{rel}: {unit.why_not}", err=True)
            if stats:
                click.echo(f"{rel}: not analysed, {len(errs)} parse errors", err=True)
            notifications.append((unit.name, unit.why_not))
            continue
        for problem in unit.result.problems:
            click.echo(f"{rel}: note: {problem}", err=True)
        if stats:
            low = unit.outcome.meta
            origin = "from the cache" if low.cached else (
                f"parsed in {low.parse_seconds:.2f} s, lowered in {low.lower_seconds:.2f} s")
            checked = low.analysis_seconds + unit.result.analysis_seconds
            click.echo(f"{rel}: {unit.result.functions} functions, {origin}, checked in "
                       f"{checked:.2f} s, {len(unit.result.findings)} "
                       f"findings, {low.parse_errors} parse errors", err=True)
    return notifications


# --- scan -----------------------------------------------------------------------------------

@main.command()
@_tree_options
@_model_option
@click.option("-r", "--rule", "rules", multiple=True, metavar="ID",
              help="Run only this rule (repeatable).")
@click.option("--fail-on", type=click.Choice(policy.FAIL_ON), default="warning",
              show_default=True, help="Exit 1 when a finding at or above this level is "
                                      "reported.")
@click.option("--format", "fmt", type=click.Choice(["text", "sarif", "html"]),
              default="text", show_default=True,
              help="gcc-style text, a SARIF 2.1.0 log, or an HTML page with each "
                   "finding's path on its source.")
@click.option("-o", "--output", metavar="FILE", help="Write the report here (atomically).")
@click.option("--baseline", metavar="OLD.sarif",
              help="Mark results new/unchanged against an earlier log.")
@click.option("--new-only", is_flag=True, help="With --baseline: report only new results.")
@click.option("--suppress", "suppress", metavar="FILE", envvar="RCUCHECK_SUPPRESS",
              help="Reviewed findings to leave out (TOML; SARIF keeps them, marked "
                   "suppressed, with the reason).")
@click.option("--write-suppressions", "write_sup", metavar="FILE",
              help="Start a suppressions file from the findings reported.")
@click.option("--stats", is_flag=True,
              help="Per file: functions, parse and analysis time, on stderr.")
@click.option("--max-steps", type=click.IntRange(1), default=Budget.steps, show_default=True,
              help="Per function: block visits before the rest of its paths are left "
                   "unexplored (a note says so).")
@click.option("--max-seconds", type=click.FloatRange(0.01), default=Budget.seconds,
              show_default=True, help="Per function: seconds of checking, likewise.")
@_phase1_options
@_run_control
@_libclang_after
@click.option("-v", "--verbose", is_flag=True,
              help="Print the flags handed to libclang, and each finding's confidence and "
                   "the exception that demoted it.")
@click.argument("files", nargs=-1, metavar="[FILES]...")
@click.pass_context
def scan(ctx: click.Context, tree_dir: str | None, compdb: str | None, derive_flags: bool,
         models: tuple[str, ...], rules: tuple[str, ...], fail_on: str, fmt: str,
         output: str | None, baseline: str | None, new_only: bool, suppress: str | None,
         write_sup: str | None, stats: bool, max_steps: int, max_seconds: float, jobs: int,
         quiet: bool, cache: bool, verbose: bool, files: tuple[str, ...]) -> None:
    """Analyse FILES of a kernel tree (paths relative to the tree).

    A directory stands for every .c file under it that the compile database
    knows, or with --derive-flags every one kbuild builds in this configuration;
    files it does not build are named on stderr and skipped. With no FILES, every
    file of the compile database is analysed. Exit 0 clean, 1 findings, for the
    files analysed; 2 for bad input or when nothing could be analysed.
    """
    tree = _open_tree(tree_dir, compdb, derive_flags)
    if files:
        sources = _sources(tree, list(files))
    elif tree.compdb is not None:
        # kernel code only: host tools (scripts/, arch/*/tools) build against libc
        sources = [Path(f) for f in tree.compdb.files()
                   if f.endswith(".c") and Path(f).is_relative_to(tree.root)
                   and "-D__KERNEL__" in tree.compdb.get(f).argv]
    else:
        raise InputError("no files named and the tree has no compile_commands.json")
    commands = [tree.command_for(src) for src in sources]
    if new_only and not baseline:
        raise InputError("--new-only needs --baseline OLD.sarif")
    known = _sarif().fingerprints_of(Path(baseline)) if baseline else None
    rules, models, sup, fail_on = _settings(ctx, tree.root, rules, models, suppress, fail_on)
    session = _session(ctx, models, rules, jobs, cache, tree.relative, quiet, tree.root)
    session.budget = Budget(max_steps, max_seconds, session.budget.disabled)
    _follow(ctx, session, tree)
    if verbose:
        for cmd in commands:
            click.echo(f"{tree.relative(cmd.file)}: libclang {' '.join(cmd.args)}", err=True)
    t_start = time.perf_counter()
    res = session.run([Job.of(cmd) for cmd in commands])
    shown = [f for f in res.findings
             if not new_only or known is None or not fingerprints.known(f, known)]
    reported, reasons = sup.split(shown, tree.relative) if sup else (shown, {})
    notifications = _report_units(tree, res, stats)
    if reasons:
        click.echo(f"{policy.plural(len(reasons), 'finding')} suppressed by {sup.source}",
                   err=True)
    if fmt in ("sarif", "html"):
        report_sarif = _sarif()
        log = report_sarif.build_log(report_sarif.SarifInput(
            [REGISTRY[r].rule for r in (rules or REGISTRY)], shown, tree.root, tree.relative,
            notifications, known, reasons))
        text = report_sarif.render(log)
        _emit(text if fmt == "sarif" else _html().from_sarif(json.loads(text)), output)
    else:
        _emit("".join(format_finding(f, tree.relative, verbose) + "\n" for f in reported),
              output)
    _unused_suppressions(sup, shown, tree.relative)
    if write_sup:
        write_atomic(Path(write_sup), draft_suppressions(reported, tree.relative))
        click.echo(f"wrote {len(reported)} entries to {write_sup}: give each a reason",
                   err=True)
    if stats:
        prog = res.program
        unknown = {c for s in prog.summaries.values() for c in s.unknown_callees}
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        click.echo(f"{len(commands)} files, {len(res.failed)} not analysed, {len(prog.nodes)} "
                   f"functions summarised in {prog.summary_seconds:.2f} s, {len(unknown)} "
                   f"callees without a body or model entry, "
                   f"{time.perf_counter() - t_start:.2f} s total", err=True)
        if res.reused["runs"]:
            click.echo("store: the same units as a run before: its results reused", err=True)
        click.echo(f"store: {res.reused['units']} units, {res.reused['summaries']} summaries "
                   f"and {res.reused['checks']} checks reused; {prog.summary_runs} functions "
                   f"run again in the reduce; peak memory here (reduce) {peak:.0f} MB",
                   err=True)
    sys.stdout.flush()
    _summary(len(res.units) - len(res.failed), len(res.failed), len(tree.skipped), reported,
             len(reasons), time.perf_counter() - t_start)
    ctx.exit(policy.exit_code(reported, fail_on, len(res.failed),
                              analysed=len(res.units) - len(res.failed)))


def _summary(analysed: int, failed: int, skipped: int, reported: list, suppressed: int,
             seconds: float) -> None:
    """The last line on stderr: what was checked, so "nothing analysed" never looks clean."""
    parts = [policy.plural(analysed, "file") + " analysed"]
    if failed:
        parts.append(f"{failed} not analysed")
    if skipped:
        parts.append(f"{skipped} skipped (not built in this configuration)")
    levels = Counter(f.level for f in reported)
    found = ", ".join(policy.plural(levels[lv], lv) for lv in ("error", "warning", "note")
                      if levels[lv]) or "no findings"
    if suppressed:
        found += f" ({suppressed} suppressed)"
    click.echo(f"rcucheck: {', '.join(parts)}; {found}; {seconds:.1f} s", err=True)


# --- graph and cfg ---------------------------------------------------------------------------

@main.command()
@_tree_options
@click.option("--function", "function", metavar="NAME",
              help="Only NAME's neighbourhood (callers and callees).")
@click.option("--depth", default=1, show_default=True, help="Neighbourhood radius.")
@click.option("--format", "fmt",
              type=click.Choice(sorted(graph_export.FORMATS) + list(graph_export.RENDERED)),
              default="dot", show_default=True,
              help="svg and png are rendered by Graphviz's dot.")
@click.option("-o", "--output", metavar="FILE", help="Write here instead of stdout.")
@click.option("--apis", is_flag=True,
              help="Show the kernel APIs of the model each function calls for RCU, "
                   "references and grace periods as nodes of their own.")
@click.option("--link-base", metavar="URL",
              help="Base of each node's link to its source line in SVG "
                   "(default: file:// addresses), e.g. a source browser's address.")
@_model_option
@_phase1_options
@_libclang_after
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.pass_context
def graph(ctx: click.Context, tree_dir: str | None, compdb: str | None, derive_flags: bool,
          function: str | None, depth: int, fmt: str, output: str | None, apis: bool,
          link_base: str | None, models: tuple[str, ...], jobs: int, quiet: bool,
          cache: bool, files: tuple[str, ...]) -> None:
    """Export the call graph of FILES, annotated with what each function does to RCU and
    references: DOT, SVG, PNG, GraphML or JSON.

    Nodes list the read-side sections inside (flavour, lines), the references taken and
    dropped (API and object), the grace-period points, and the summary callers see
    (takes, releases or requires RCU, returns a reference, may sleep); edges say at how
    many call sites and whether RCU was held at each. --apis adds the modelled APIs as
    nodes. The pictures carry a legend; SVG nodes link to their source line.
    """
    tree = _open_tree(tree_dir, compdb, derive_flags)
    commands = [tree.command_for(src) for src in _sources(tree, list(files))]
    session = _session(ctx, models, jobs=jobs, cache=cache, rel=tree.relative, quiet=quiet,
                       tree=tree.root)
    session.checkers = []
    session.need_program = True
    from analyzer.interproc.story import story  # (only this command's)

    stories: dict = {}

    def read_stories(prog) -> None:
        for nid in prog.graph.nodes:
            try:
                stories[nid] = story(prog.body(nid), prog.model, prog.lookup_for(nid))
            except KeyError:  # no body kept for it
                continue

    session.inspect = read_stories
    res = session.run([Job.of(cmd) for cmd in commands])
    _report_units(tree, res)
    prog = res.program
    g = graph_export.annotated(prog.graph, prog.summaries, function, depth,
                               rel=tree.relative, stories=stories, apis=apis, link=link_base)
    if function is not None and g.number_of_nodes() == 0:
        raise InputError(f"no function {function} in {', '.join(files)}")
    if fmt in graph_export.RENDERED:
        data = graph_export.render(g, fmt)
        if output:
            write_atomic(Path(output), data)
        elif fmt == "png" and sys.stdout.isatty():
            raise InputError("a PNG on a terminal is unreadable: pass -o FILE.png")
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
    else:
        _emit(graph_export.FORMATS[fmt](g), output)
    ctx.exit(2 if res.failed else 0)


@main.command()
@_tree_options
@_model_option
@click.option("--function", "function", metavar="NAME", help="Only this function.")
@_libclang_after
@click.argument("file")
@click.pass_context
def cfg(ctx: click.Context, tree_dir: str | None, compdb: str | None, derive_flags: bool,
        models: tuple[str, ...], function: str | None, file: str) -> None:
    """Print the lowered control-flow graph of FILE's functions (for debugging rules)."""
    tree = _open_tree(tree_dir, compdb, derive_flags)
    cmd = tree.command_for(tree.expand([file])[0])
    session = _session(ctx, models, cache=False)
    (out,) = session.lower([Job.of(cmd)])
    if out.lowered is None:
        raise InputError(f"{file} could not be lowered: "
                         f"{out.error or 'libclang could not parse it'}")
    fns = [f for f in out.lowered.functions if function in (None, f.name)]
    if not fns:
        raise InputError(f"{file} defines no function {function}")
    click.echo(deepstack.run(lambda: "\n".join(dump(f) for f in fns)))


# --- kbuild, check-patch, report -------------------------------------------------------------

@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.option("--werror", is_flag=True, envvar="RCUCHECK_WERROR",
              help="Exit 1 when there are findings (default: always 0, as sparse).")
@click.option("--sarif-dir", metavar="DIR", envvar="RCUCHECK_SARIF_DIR",
              help="Also write one SARIF fragment per translation unit here.")
@click.option("--suppress", "suppress", metavar="FILE", envvar="RCUCHECK_SUPPRESS",
              help="Reviewed findings to leave out (TOML).")
@_model_option
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def kbuild(ctx: click.Context, werror: bool, sarif_dir: str | None, suppress: str | None,
           models: tuple[str, ...], args: tuple[str, ...]) -> None:
    """Run as kbuild's checker: make C=1 CHECK="rcucheck kbuild" (or C=2).

    Takes what kbuild passes (CHECKFLAGS, the compiler flags, the source file),
    prints gcc-style findings on stderr and exits 0, as sparse does.
    """
    if args in (("--help",), ("-h",)):  # kbuild never passes these: a person asking
        click.echo(ctx.get_help())
        ctx.exit(0)
    cwd = Path.cwd()

    def rel(path: str) -> str:
        p = Path(path)
        return str(p.relative_to(cwd)) if p.is_absolute() and p.is_relative_to(cwd) else path

    from analyzer.workflows import kbuild as kbuild_mode  # (only this command's)

    job = kbuild_mode.job_from_args(args, cwd)
    ctx.meta.setdefault("config", os.environ.get("RCUCHECK_CONFIG"))
    rules, models, sup, _ = _settings(ctx, cwd, (), models, suppress)
    session = _session(ctx, models, rules, rel=rel, tree=cwd)
    result = kbuild_mode.check(session, job)
    reported, reasons = sup.split(result.findings, rel) if sup else (result.findings, {})
    notifications = []
    if result.skipped:
        # libclang's trouble is not the user's compile failure: no "error" here
        click.echo(f"rcucheck: {rel(job.name)}: skipped: {result.skipped}", err=True)
        notifications.append((job.name, f"skipped: {result.skipped}"))
    for f in reported:
        click.echo(format_finding(f, rel), err=True)
    if sarif_dir:
        out = Path(sarif_dir)
        out.mkdir(parents=True, exist_ok=True)
        report_sarif = _sarif()
        log = report_sarif.build_log(report_sarif.SarifInput(
            [c.rule for c in REGISTRY.values()], result.findings, cwd, rel, notifications,
            suppressed=reasons))
        name = rel(job.name).replace("/", "_").replace("..", "_") + ".sarif"
        write_atomic(out / name, report_sarif.render(log))
    ctx.exit(policy.exit_code(reported, kbuild=True, werror=werror))


@main.command("check-patch")
@_tree_options
@click.option("--git", "git_range", metavar="BASE..HEAD",
              help="Check a range of commits of the tree (a git checkout) instead of a patch.")
@_model_option
@click.option("--fail-on", type=click.Choice(policy.FAIL_ON), default="warning",
              show_default=True)
@click.option("--suppress", "suppress", metavar="FILE", envvar="RCUCHECK_SUPPRESS",
              help="Reviewed findings to leave out (TOML).")
@click.option("--format", "fmt", type=click.Choice(["text", "sarif"]), default="text",
              show_default=True, help="gcc-style text, or a SARIF 2.1.0 log.")
@click.option("-o", "--output", metavar="FILE", help="Write the report here (atomically).")
@_phase1_options
@_run_control
@_libclang_after
@click.argument("patches", nargs=-1, metavar="[PATCH|MBOX|-]...")
@click.pass_context
def check_patch(ctx: click.Context, tree_dir: str | None, compdb: str | None,
                derive_flags: bool, git_range: str | None, models: tuple[str, ...],
                fail_on: str, suppress: str | None, fmt: str, output: str | None, jobs: int,
                quiet: bool, cache: bool, patches: tuple[str, ...]) -> None:
    """Report the findings patches (or a git range) introduce; nothing more.

    Each PATCH is a git format-patch mail, an mbox of a series, or a unified diff;
    - reads one from stdin, as `b4 prep --check` passes it.  Several are applied in
    order, as `git am` would, and each finding names the patch that introduces it.
    Changed files the compile database does not know are analysed with kbuild's own
    flags; a changed header, in the units that include it.  Exit 1 when findings at or
    above --fail-on are added, 0 when not, 2 when a patch does not apply, 3 when a
    changed file could not be checked.
    """
    from analyzer.workflows import patchcheck  # (only this command's)

    tree = _open_tree(tree_dir, compdb, derive_flags)
    rules, models, sup, fail_on = _settings(ctx, tree.root, (), models, suppress, fail_on)
    if git_range and patches:
        raise InputError("give patches or --git BASE..HEAD, not both")
    if not git_range and not patches:
        raise InputError("no patch given (files, or - for stdin)")
    mails: list[patchcheck.Mail] = []
    for patch in patches:
        if patch == "-":
            data = click.get_binary_stream("stdin").read()
        else:
            try:
                data = Path(patch).read_bytes()
            except OSError as exc:
                raise InputError(f"cannot read {patch}: {exc.strerror}") from None
        mails += patchcheck.split_mails(data)
    session = _session(ctx, models, rules, jobs=jobs, cache=cache, rel=tree.relative,
                       quiet=quiet, tree=tree.root)
    _follow(ctx, session, tree)
    t_start = time.perf_counter()
    if git_range:
        change = patchcheck.change_from_git(tree, git_range)
        results = [(None, patchcheck.new_findings(tree, change, session))]
    else:
        results = patchcheck.check_series(tree, mails, session)
    added, failed, unchecked = [], 0, 0
    for mail, result in results:
        for note in result.notes:
            click.echo(f"rcucheck: {note}", err=True)
        for side, unit in result.failed:
            click.echo(f"{tree.relative(unit.name)}: {unit.why_not} ({side} the change)",
                       err=True)
        failed += len(result.failed)
        unchecked += result.unchecked
        for f in result.added:
            if mail is not None and mail.title:
                f.notes.append((f.loc, f"introduced by {mail.title}"))
        added += result.added
    reported, reasons = sup.split(added, tree.relative) if sup else (added, {})
    if fmt == "sarif":
        report_sarif = _sarif()
        log = report_sarif.build_log(report_sarif.SarifInput(
            [REGISTRY[r].rule for r in (rules or REGISTRY)], added, tree.root, tree.relative,
            [(u.name, u.why_not) for _, r in results for _, u in r.failed], None, reasons))
        _emit(report_sarif.render(log), output)
    else:
        _emit("".join(format_finding(f, tree.relative) + "\n" for f in reported), output)
    sys.stdout.flush()
    patches_n = "1 range" if git_range else \
        f"{len(results)} patch{'es' if len(results) != 1 else ''}"
    levels = Counter(f.level for f in reported)
    found = ", ".join(policy.plural(levels[lv], lv) for lv in ("error", "warning", "note")
                      if levels[lv]) or "no new findings"
    missed = f"; {unchecked + failed} changed files not checked" if unchecked + failed else ""
    click.echo(f"rcucheck: {patches_n} checked; {found}{missed}; "
               f"{time.perf_counter() - t_start:.1f} s", err=True)
    code = policy.exit_code(reported, fail_on)
    ctx.exit(policy.PARTIAL if (failed or unchecked) and code == 0 else code)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("-o", "--output", metavar="FILE", help="The merged log (default: stdout).")
@click.option("--html", is_flag=True, help="An HTML page instead of a SARIF log.")
def report(directory: str, output: str | None, html: bool) -> None:
    """Merge the per-TU SARIF fragments of a kbuild run into one log (or HTML page)."""
    text = _sarif().merge(Path(directory))
    _emit(_html().from_sarif(json.loads(text)) if html else text, output)


# --- the store -------------------------------------------------------------------------------

@main.group()
def cache() -> None:
    """Inspect or empty the store of lowered units, summaries and findings."""


def _cache_file(cache_dir: str | None) -> Path:
    return Path(cache_dir or storage.default_dir()) / storage.FILE_NAME


def _preamble_dir(cache_dir: str | None) -> Path:
    return Path(cache_dir or storage.default_dir()) / PREAMBLES


@cache.command("stats")
@click.option("--cache-dir", metavar="DIR", envvar="RCUCHECK_CACHE")
def cache_stats(cache_dir: str | None) -> None:
    """Where the store is, its size, and what it holds."""
    path = _cache_file(cache_dir)
    if not path.exists():
        click.echo(f"{path}: no store yet")
        return
    counts = storage.inspect(path)
    size = sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal")
               if Path(f"{path}{s}").exists())
    click.echo(f"{path}: {size / 1e6:.1f} MB")
    for table, n in counts.items():
        click.echo(f"  {table:10} {n}")
    pre = sorted(_preamble_dir(cache_dir).glob("*.pch"))
    if pre:
        click.echo(f"{_preamble_dir(cache_dir)}: {len(pre)} preambles, "
                   f"{sum(p.stat().st_size for p in pre) / 1e6:.1f} MB")


@cache.command("clear")
@click.option("--cache-dir", metavar="DIR", envvar="RCUCHECK_CACHE")
def cache_clear(cache_dir: str | None) -> None:
    """Delete the store (the next run rebuilds what it needs)."""
    path = _cache_file(cache_dir)
    removed = storage.remove(path)
    click.echo(f"{path}: {'removed' if removed else 'no store'}")
    pre = _preamble_dir(cache_dir)
    if pre.is_dir():
        import shutil
        shutil.rmtree(pre, ignore_errors=True)
        click.echo(f"{pre}: removed")
    legacy = path.parent / "tu"  # the pickled per-unit cache of rcucheck before the store
    if legacy.is_dir() and all(p.suffix in (".pickle", ".tmp") for p in legacy.iterdir()):
        import shutil
        shutil.rmtree(legacy, ignore_errors=True)
        click.echo(f"{legacy}: removed (the old cache)")


# --- rules -----------------------------------------------------------------------------------

@main.command()
def rules() -> None:
    """List the rules with their ids, default levels and summaries."""
    for rid in sorted(REGISTRY):
        rule = REGISTRY[rid].rule
        click.echo(f"{rid:24} {rule.level:8} {rule.short}")


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Show a rule's documentation: what it finds, why, an example, the fix."""
    if rule_id not in REGISTRY:
        raise InputError(f"unknown rule {rule_id} (rcucheck rules lists them)")
    rule = REGISTRY[rule_id].rule
    click.echo(f"{rule.id} ({rule.name}): {rule.short}\n")
    click.echo(rule.doc)
    own = [e for e in exception_registry().values() if e.rule == rule_id]
    if own:
        click.echo("\n## Registered exceptions (--disable-exception ID turns one off)\n")
        for e in own:
            click.echo(f"- `{e.id}`: {e.summary}. {e.why}")


@main.command()
def exceptions() -> None:
    """List the registered exceptions: the heuristics that keep a rule from reporting."""
    for e in sorted(exception_registry().values(), key=lambda e: e.id):
        click.echo(e.line())
    where, kinds = early_exit_kinds()
    click.echo(f"\nevery other early exit of the checkers and the engine is classified in "
               f"{where}: " + ", ".join(f"{n} {k}" for k, n in kinds.items()))


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
