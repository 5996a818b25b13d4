"""Qumulo REST API client (and, in ``simulator/``, a fake cluster for tests and the demo)."""
