"""Benchmarks on the evaluation data: each prints a table and writes JSON."""
