"""libclang: loading it, parsing a translation unit as kbuild compiles it, the macro
index of the main file, and the few C entry points the Python bindings do not wrap."""
