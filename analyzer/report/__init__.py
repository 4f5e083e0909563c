"""Reports: fingerprints, gcc-style text, SARIF 2.1.0, call-graph exports, and
atomic output files."""
