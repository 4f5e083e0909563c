"""Workflows built on the driver: checking a patch or a git range before it is sent,
and running as kbuild's CHECK= program."""
