"""Lowering: libclang cursors of a function body become a CFG of events (`analyzer.ir`).

The only layer that walks cursors.  It knows C, not the kernel: the API model
says which macro uses are one event and which loops are RCU list walks.
"""

from analyzer.lower.context import LowerContext
from analyzer.lower.lowerer import lower_function
from analyzer.lower.tu import LoweredTU, lower_tu

__all__ = ["LowerContext", "LoweredTU", "lower_function", "lower_tu"]
