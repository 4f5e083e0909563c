"""The `rcucheck` command line."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from analyzer import __version__, clangsetup
from analyzer.errors import InputError
from analyzer.frontend import ParsedTU, parse_command
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rcucheck")
@click.option("--libclang", "libclang", metavar="PATH", envvar=clangsetup.ENV_VAR,
              help=f"libclang shared library to use (also ${clangsetup.ENV_VAR}); "
                   "newer kernels need libclang >= 19.")
@click.pass_context
def main(ctx: click.Context, libclang: str | None) -> None:
    """Static checker for the Linux kernel's RCU and reference-count discipline."""
    ctx.obj = {"libclang": libclang}


@main.command()
@click.option("--tree", "tree_dir", metavar="DIR", envvar="RCUCHECK_TREE",
              help="Configured kernel tree (also $RCUCHECK_TREE).")
@click.option("-p", "--compile-commands", "compdb", metavar="PATH",
              help="compile_commands.json to use (default: the tree's own, if any).")
@click.option("-v", "--verbose", is_flag=True, help="Print the flags handed to libclang.")
@click.argument("files", nargs=-1, metavar="[FILES]...")
@click.pass_context
def scan(ctx: click.Context, tree_dir: str | None, compdb: str | None, verbose: bool,
         files: tuple[str, ...]) -> None:
    """Analyse FILES of a kernel tree (paths relative to the tree).

    A directory stands for every .c file under it that the compile database
    knows; with no FILES, every file of the compile database is analysed.
    """
    if not tree_dir:
        raise InputError("no kernel tree given: pass --tree DIR or set RCUCHECK_TREE "
                         "(scripts/get-kernel provisions one)")
    tree = KernelTree.open(tree_dir, compdb)
    if files:
        sources = tree.expand(list(files))
    elif tree.compdb is not None:
        sources = [Path(f) for f in tree.compdb.files()
                   if f.endswith(".c") and Path(f).is_relative_to(tree.root)]
    else:
        raise InputError("no files named and the tree has no compile_commands.json")
    commands = [tree.command_for(src) for src in sources]
    clangsetup.load(ctx.obj["libclang"])

    failed = 0
    t_start = time.perf_counter()
    for cmd in commands:
        rel = tree.relative(cmd.file)
        try:
            parsed = parse_command(cmd)
        except InputError as exc:
            click.echo(f"{rel}: not analysed: {exc}", err=True)
            failed += 1
            continue
        if verbose:
            click.echo(f"{rel}: libclang {' '.join(parsed.args)}", err=True)
        if parsed.errors:
            failed += 1
        _report_parse(tree, rel, parsed)
    if len(commands) > 1:
        click.echo(f"{len(commands)} files, {failed} not parsed cleanly, "
                   f"{time.perf_counter() - t_start:.2f} s")
    sys.stdout.flush()
    ctx.exit(2 if failed else 0)


def _report_parse(tree: KernelTree, rel: str, parsed: ParsedTU) -> None:
    errors = parsed.errors
    for d in errors[:MAX_DIAGS_PER_FILE]:
        where = tree.relative(d.file) if d.file else rel
        click.echo(f"{where}:{d.line}:{d.column}: parse {d.severity}: {d.message}", err=True)
    if len(errors) > MAX_DIAGS_PER_FILE:
        click.echo(f"{rel}: ... and {len(errors) - MAX_DIAGS_PER_FILE} more parse errors",
                   err=True)
    click.echo(f"{rel}: {len(parsed.functions)} functions, parsed in "
               f"{parsed.parse_seconds:.2f} s, {len(errors)} parse errors")


if __name__ == "__main__":  # pragma: no cover
    main(prog_name=os.path.basename(sys.argv[0]))
