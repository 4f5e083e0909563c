"""The `rcucheck` command line."""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path

import click

from analyzer import __version__, clangsetup, deepstack, graph_export, report_sarif
from analyzer.analysis import Program
from analyzer.compdb import CompileCommand
from analyzer.errors import InputError
from analyzer.flags import translate
from analyzer.frontend import parse_command
from analyzer.ir import dump
from analyzer.lower import LowerContext, lower_function
from analyzer.model import ApiModel
from analyzer.outfile import write_atomic
from analyzer.report_text import format_finding
from analyzer.tree import KernelTree

MAX_DIAGS_PER_FILE = 5


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


LEVELS = {"note": 0, "warning": 1, "error": 2}


def _tree_option(f):
    f = click.option("--derive-flags", is_flag=True,
                     help="Files missing from the compile database: use kbuild's .o.cmd "
                          "file, or flags derived from the configured tree.")(f)
    f = click.option("-p", "--compile-commands", "compdb", metavar="PATH",
                     help="compile_commands.json to use (default: the tree's own, if any).")(f)
    return click.option("--tree", "tree_dir", metavar="DIR", envvar="RCUCHECK_TREE",
                        help="Configured kernel tree (also $RCUCHECK_TREE).")(f)


def _open_tree(tree_dir: str | None, compdb: str | None, derive: bool = False) -> KernelTree:
    if not tree_dir:
        raise InputError("no kernel tree given: pass --tree DIR or set RCUCHECK_TREE "
                         "(scripts/get-kernel provisions one)")
    tree = KernelTree.open(tree_dir, compdb)
    tree.derive = derive
    return tree


@main.command()
@_tree_option
@click.option("--model", "models", multiple=True, metavar="FILE",
              help="Extra API model file (TOML); later files override earlier entries.")
@click.option("-r", "--rule", "rules", multiple=True, metavar="ID",
              help="Run only this rule (repeatable).")
@click.option("--fail-on", type=click.Choice(["note", "warning", "error", "never"]),
              default="warning", show_default=True,
              help="Exit 1 when a finding at or above this level is reported.")
@click.option("--format", "fmt", type=click.Choice(["text", "sarif"]), default="text",
              show_default=True, help="gcc-style text, or a SARIF 2.1.0 log.")
@click.option("-o", "--output", metavar="FILE", help="Write the report here (atomically).")
@click.option("--baseline", metavar="OLD.sarif",
              help="Mark results new/unchanged against an earlier log.")
@click.option("--new-only", is_flag=True, help="With --baseline: report only new results.")
@click.option("--stats", is_flag=True,
              help="Per file: functions, parse and analysis time, on stderr.")
@click.option("-j", "--jobs", default=1, show_default=True, type=click.IntRange(1),
              help="Parse and lower this many translation units at once.")
@click.option("--cache/--no-cache", default=True, show_default=True,
              help="Reuse the lowered form of unchanged translation units "
                   "($RCUCHECK_CACHE/tu).")
@click.option("-v", "--verbose", is_flag=True, help="Print the flags handed to libclang.")
@click.argument("files", nargs=-1, metavar="[FILES]...")
@click.pass_context
def scan(ctx: click.Context, tree_dir: str | None, compdb: str | None, derive_flags: bool,
         models: tuple[str, ...],
         rules: tuple[str, ...], fail_on: str, fmt: str, output: str | None,
         baseline: str | None, new_only: bool, stats: bool, jobs: int, cache: bool,
         verbose: bool, files: tuple[str, ...]) -> None:
    """Analyse FILES of a kernel tree (paths relative to the tree).

    A directory stands for every .c file under it that the compile database
    knows; with no FILES, every file of the compile database is analysed.
    """
    tree = _open_tree(tree_dir, compdb, derive_flags)
    if files:
        sources = tree.expand(list(files))
    elif tree.compdb is not None:
        # kernel code only: host tools (scripts/, arch/*/tools) build against libc
        sources = [Path(f) for f in tree.compdb.files()
                   if f.endswith(".c") and Path(f).is_relative_to(tree.root)
                   and "-D__KERNEL__" in tree.compdb.get(f).argv]
    else:
        raise InputError("no files named and the tree has no compile_commands.json")
    commands = [tree.command_for(src) for src in sources]
    model = ApiModel.load(list(models))
    from checkers import REGISTRY

    unknown = [r for r in rules if r not in REGISTRY]
    if unknown:
        raise InputError(f"unknown rule {unknown[0]} (rcucheck rules lists them)")
    clangsetup.load(ctx.obj["libclang"])

    if new_only and not baseline:
        raise InputError("--new-only needs --baseline OLD.sarif")
    known = report_sarif.fingerprints_of(Path(baseline)) if baseline else None
    t_start = time.perf_counter()
    notifications: list[tuple[str, str]] = []
    prog, failed = _load_program(tree, commands, model, list(rules) or None, verbose,
                                 notifications, jobs, cache, ctx.obj["libclang"])
    results = prog.analyze()
    findings = report_sarif.ordered(
        [f for r in results.values() for f in r.findings], tree.relative)
    prints = report_sarif.fingerprint_all(findings, tree.relative)
    shown = [f for f, fp in zip(findings, prints, strict=True)
             if not new_only or known is None or fp not in known]
    worst = max((LEVELS.get(f.level, 1) for f in shown), default=-1)
    if fmt == "sarif":
        from checkers import REGISTRY

        log = report_sarif.build_log(report_sarif.SarifInput(
            [REGISTRY[r].rule for r in (rules or REGISTRY)], shown if new_only else findings,
            tree.root, tree.relative, notifications, known))
        _emit(report_sarif.render(log), output)
    else:
        _emit("".join(format_finding(f, tree.relative) + "\n" for f in shown), output)
    for unit in prog.units:
        rel = tree.relative(unit.path)
        result = results[unit.path]
        for problem in result.problems:
            click.echo(f"{rel}: note: {problem}", err=True)
        if stats:
            origin = "from the cache" if unit.cached else (
                f"parsed in {unit.parse_seconds:.2f} s, lowered in {unit.lower_seconds:.2f} s")
            click.echo(f"{rel}: {result.functions} functions, {origin}, "
                       f"checked in {result.analysis_seconds:.2f} s, "
                       f"{len(result.findings)} findings, 0 parse errors", err=True)
    if stats:
        unknown = {c for s in prog.summaries.values() for c in s.unknown_callees}
        click.echo(f"{len(commands)} files, {failed} not analysed, {len(prog.nodes)} functions "
                   f"summarised in {prog.summary_seconds:.2f} s, {len(unknown)} callees without "
                   f"a body or model entry, {time.perf_counter() - t_start:.2f} s total",
                   err=True)
    sys.stdout.flush()
    if failed:
        ctx.exit(2)
    ctx.exit(1 if fail_on != "never" and worst >= LEVELS.get(fail_on, 1) else 0)


def _emit(text: str, output: str | None) -> None:
    if output:
        write_atomic(Path(output), text)
    else:
        click.echo(text, nl=False)


def _load_program(tree: KernelTree, commands, model: ApiModel, rules: list[str] | None,
                  verbose: bool = False, notifications: list | None = None,
                  jobs: int = 1, cache: bool = True, libclang: str | None = None
                  ) -> tuple[Program, int]:
    """Parse and lower every file (in workers, from the cache when unchanged).

    A file that fails to parse, or crashes libclang, is reported and skipped.
    """
    from analyzer import pipeline

    prog = Program(model, rules)
    failed = 0
    if verbose:
        for cmd in commands:
            args = translate(list(cmd.argv), cmd.directory, cmd.file).args
            click.echo(f"{tree.relative(cmd.file)}: libclang {' '.join(args)}", err=True)
    outcomes = pipeline.run(commands, model, jobs,
                            pipeline.default_cache_dir() if cache else None, libclang)
    for out in outcomes:
        rel = tree.relative(out.cmd.file)
        if out.lowered is not None:
            prog.add_lowered(out.lowered)
            continue
        failed += 1
        if out.parse_errors:
            _report_parse(tree, rel, out.parse_errors)
            first = out.parse_errors[0]
            why = (f"not analysed: {len(out.parse_errors)} parse problems, first at line "
                   f"{first.line}: {first.message}")
        else:
            why = f"not analysed: {out.error}"
            click.echo(f"{rel}: {why}", err=True)
        if notifications is not None:
            notifications.append((out.cmd.file, why))
    return prog, failed


def _report_parse(tree: KernelTree, rel: str, errors: list) -> None:
    for d in errors[:MAX_DIAGS_PER_FILE]:
        where = tree.relative(d.file) if d.file else rel
        click.echo(f"{where}:{d.line}:{d.column}: parse {d.severity}: {d.message}", err=True)
    if len(errors) > MAX_DIAGS_PER_FILE:
        click.echo(f"{rel}: ... and {len(errors) - MAX_DIAGS_PER_FILE} more parse errors",
                   err=True)
    click.echo(f"{rel}: not analysed: {len(errors)} parse errors", err=True)


@main.command()
@_tree_option
@click.option("--function", "function", metavar="NAME",
              help="Only NAME's neighbourhood (callers and callees).")
@click.option("--depth", default=1, show_default=True, help="Neighbourhood radius.")
@click.option("--format", "fmt", type=click.Choice(sorted(graph_export.FORMATS)),
              default="dot", show_default=True)
@click.option("-o", "--output", metavar="FILE", help="Write here instead of stdout.")
@click.option("--model", "models", multiple=True, metavar="FILE", help="Extra API model file.")
@click.argument("files", nargs=-1, required=True, metavar="FILES...")
@click.pass_context
def graph(ctx: click.Context, tree_dir: str | None, compdb: str | None, derive_flags: bool,
          function: str | None,
          depth: int, fmt: str, output: str | None, models: tuple[str, ...],
          files: tuple[str, ...]) -> None:
    """Export the call graph of FILES, annotated with summaries, as DOT, GraphML or JSON.

    Nodes say whether a function takes, releases or requires RCU, returns a
    reference, or may sleep; edges say whether RCU was held at the call.
    """
    tree = _open_tree(tree_dir, compdb, derive_flags)
    commands = [tree.command_for(src) for src in tree.expand(list(files))]
    model = ApiModel.load(list(models))
    clangsetup.load(ctx.obj["libclang"])
    prog, failed = _load_program(tree, commands, model, rules=[],
                                 libclang=ctx.obj["libclang"])
    prog.analyze()
    g = graph_export.annotated(prog, function, depth, rel=tree.relative)
    if function is not None and g.number_of_nodes() == 0:
        raise InputError(f"no function {function} in {', '.join(files)}")
    text = graph_export.FORMATS[fmt](g)
    if output:
        write_atomic(Path(output), text)
    else:
        click.echo(text, nl=False)
    ctx.exit(2 if failed else 0)


@main.command(context_settings={"ignore_unknown_options": True, "help_option_names": []})
@click.option("--werror", is_flag=True, envvar="RCUCHECK_WERROR",
              help="Exit 1 when there are findings (default: always 0, as sparse).")
@click.option("--sarif-dir", metavar="DIR", envvar="RCUCHECK_SARIF_DIR",
              help="Also write one SARIF fragment per translation unit here.")
@click.option("--model", "models", multiple=True, metavar="FILE", help="Extra API model file.")
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def kbuild(ctx: click.Context, werror: bool, sarif_dir: str | None, models: tuple[str, ...],
           args: tuple[str, ...]) -> None:
    """Run as kbuild's checker: make C=1 CHECK="rcucheck kbuild" (or C=2).

    Takes what kbuild passes (CHECKFLAGS, the compiler flags, the source file),
    prints gcc-style findings on stderr and exits 0, as sparse does.
    """
    sources = [a for a in args if a.endswith(".c") and not a.startswith("-")]
    if not sources:
        raise InputError("kbuild mode needs the C source file kbuild passes last")
    source = sources[-1]
    cwd = Path.cwd()
    cmd = CompileCommand(str((cwd / source).resolve()), str(cwd), ("gcc", *args))

    def rel(path: str) -> str:
        p = Path(path)
        return str(p.relative_to(cwd)) if p.is_absolute() and p.is_relative_to(cwd) else path

    clangsetup.load(ctx.obj["libclang"])
    model = ApiModel.load(list(models))
    try:
        parsed = parse_command(cmd)
    except InputError as exc:
        click.echo(f"rcucheck: {rel(cmd.file)}: skipped: {exc}", err=True)
        ctx.exit(0)
    notifications: list[tuple[str, str]] = []
    findings: list = []
    if parsed.errors:
        # libclang's trouble is not the user's compile failure: no "error" here
        click.echo(f"rcucheck: {rel(cmd.file)}: skipped: libclang could not parse it cleanly "
                   f"({len(parsed.errors)} problems, first at line {parsed.errors[0].line})",
                   err=True)
        notifications.append((cmd.file, f"skipped: {len(parsed.errors)} parse problems"))
    else:
        prog = Program(model)
        prog.add(parsed)
        findings = prog.analyze()[cmd.file].findings
        for f in report_sarif.ordered(findings, rel):
            click.echo(format_finding(f, rel), err=True)
    if sarif_dir:
        from checkers import REGISTRY

        out = Path(sarif_dir)
        out.mkdir(parents=True, exist_ok=True)
        log = report_sarif.build_log(report_sarif.SarifInput(
            [c.rule for c in REGISTRY.values()], findings, cwd, rel, notifications))
        name = rel(cmd.file).replace("/", "_").replace("..", "_") + ".sarif"
        write_atomic(out / name, report_sarif.render(log))
    ctx.exit(1 if werror and findings else 0)


@main.command("check-patch")
@_tree_option
@click.option("--git", "git_range", metavar="BASE..HEAD",
              help="Check a range of commits of the tree (a git checkout) instead of a patch.")
@click.option("--model", "models", multiple=True, metavar="FILE", help="Extra API model file.")
@click.option("--fail-on", type=click.Choice(["note", "warning", "error", "never"]),
              default="warning", show_default=True)
@click.argument("patch", required=False, metavar="[PATCH|-]")
@click.pass_context
def check_patch(ctx: click.Context, tree_dir: str | None, compdb: str | None,
                derive_flags: bool, git_range: str | None, models: tuple[str, ...], fail_on: str,
                patch: str | None) -> None:
    """Report the findings a patch (or a git range) introduces; silent when it adds none.

    PATCH is a git format-patch mail or a unified diff; - reads it from stdin, as
    `b4 prep --check` passes it.  Exit 1 when the change adds findings at or
    above --fail-on, 0 when not, 2 when it does not apply.
    """
    from analyzer import patchcheck

    tree = _open_tree(tree_dir, compdb, derive_flags)
    if git_range and patch:
        raise InputError("give a patch or --git BASE..HEAD, not both")
    if git_range:
        change = patchcheck.change_from_git(tree, git_range)
    else:
        if not patch:
            raise InputError("no patch given (a file, or - for stdin)")
        if patch == "-":
            data = click.get_binary_stream("stdin").read()
        else:
            try:
                data = Path(patch).read_bytes()
            except OSError as exc:
                raise InputError(f"cannot read {patch}: {exc.strerror}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("the patch is not UTF-8 text") from None
        change = patchcheck.change_from_patch(tree, text)
    clangsetup.load(ctx.obj["libclang"])
    added = patchcheck.new_findings(tree, change, ApiModel.load(list(models)))
    for f in added:
        click.echo(format_finding(f, tree.relative))
    worst = max((LEVELS.get(f.level, 1) for f in added), default=-1)
    ctx.exit(1 if fail_on != "never" and worst >= LEVELS.get(fail_on, 1) else 0)


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("-o", "--output", metavar="FILE", help="The merged log (default: stdout).")
def report(directory: str, output: str | None) -> None:
    """Merge the per-TU SARIF fragments of a kbuild run into one log."""
    text = report_sarif.merge(Path(directory))
    _emit(text, output)


@main.command()
def rules() -> None:
    """List the rules with their ids, default levels and summaries."""
    from checkers import REGISTRY

    for rid in sorted(REGISTRY):
        rule = REGISTRY[rid].rule
        click.echo(f"{rid:24} {rule.level:8} {rule.short}")


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Show a rule's documentation: what it finds, why, an example, the fix."""
    from checkers import REGISTRY

    if rule_id not in REGISTRY:
        raise InputError(f"unknown rule {rule_id} (rcucheck rules lists them)")
    rule = REGISTRY[rule_id].rule
    click.echo(f"{rule.id} ({rule.name}): {rule.short}\n")
    click.echo(rule.doc)


@main.command()
@_tree_option
@click.option("--function", "function", metavar="NAME", help="Only this function.")
@click.argument("file")
@click.pass_context
def cfg(ctx: click.Context, tree_dir: str | None, compdb: str | None, derive_flags: bool,
        function: str | None, file: str) -> None:
    """Print the lowered control-flow graph of FILE's functions (for debugging rules)."""
    tree = _open_tree(tree_dir, compdb, derive_flags)
    src = tree.expand([file])[0]
    cmd = tree.command_for(src)
    clangsetup.load(ctx.obj["libclang"])
    parsed = parse_command(cmd)
    model = ApiModel.load()
    lctx = LowerContext.for_tu(parsed, model)
    fdefs = [f for f in parsed.functions if function in (None, f.name)]
    if not fdefs:
        raise InputError(f"{file} defines no function {function}")
    text = deepstack.run(lambda: "\n".join(dump(lower_function(lctx, f.cursor))
                                            for f in fdefs))
    click.echo(text)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
