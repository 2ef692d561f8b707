"""OpSpec tables by op family (see tests/opspec.py)."""
