"""The benchmark data: table sources (embedded / data folder), manifest and checksums, fetch, cache checks."""
