"""Services: what the CLI, the web UI, the benchmarks and the tests call, one module per stage.

Each is a few functions that take the `Context` and explicit inputs and return typed results.
`pipeline.py` lists the stages in order: read it first.
"""
