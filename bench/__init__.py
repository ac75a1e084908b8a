"""Benchmarks: Steward against the engine's own limit, side by side in one run (`make bench`).

Not part of the product and never run by `make test`; see bench/README.md.
"""
