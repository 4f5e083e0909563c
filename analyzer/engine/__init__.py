"""The engine: a path-sensitive dataflow over a function's CFG of events.

`run` walks the CFG with a bounded set of states per block; `state` is the
shared path state and its join; `lifetimes` the reference and provenance
transfer; `sections` the read-side flavours; `hooks` the interface checkers and
observers subscribe to, with their per-path slots.
"""
