"""The performance benchmark suite: chainrule against PyTorch (and other small frameworks).

Run it with ``python -m benchmarks.run``; see ``benchmarks/README.md``.
"""
