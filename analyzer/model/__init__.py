"""The kernel API model: what functions, macros and flavours do, as data.

Kernel knowledge lives in `data/kernel-api.toml` and users' `--model` files,
never in the engine or the checkers; this package loads, validates and answers
questions about it (`gfp` reads allocation masks).
"""

from analyzer.model.api import (
    AccessModel,
    ApiModel,
    Flavour,
    FnModel,
    Gfp,
    Guards,
    Naming,
    WalkModel,
)

__all__ = ["AccessModel", "ApiModel", "Flavour", "FnModel", "Gfp", "Guards", "Naming",
           "WalkModel"]
