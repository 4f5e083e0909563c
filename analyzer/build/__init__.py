"""The kernel tree and its build: configuration checks, the compile database, and the
translation of kbuild's gcc flags into arguments libclang accepts."""
