"""The command line (`rcucheck`): the only layer that knows the checkers and prints."""

from analyzer.cli.main import main

__all__ = ["main"]
