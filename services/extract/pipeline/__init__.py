"""The extract pipeline: an ordered list of stages sharing one contract (see base.py)."""
