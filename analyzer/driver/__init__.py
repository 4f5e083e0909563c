"""The driver: every command's flow (phase 1 in worker processes with a cache and
crash isolation, summaries, checks, fingerprinted findings) and its exit policy."""
