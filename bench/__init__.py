"""Benchmarks (not tests): run them by hand, see docs/performance.md."""
