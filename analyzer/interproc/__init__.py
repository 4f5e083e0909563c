"""Interprocedural analysis: the call graph over every function of a run, bottom-up
summaries over its strongly connected components, and the observer that collects
what a summary needs from each function's engine run."""
