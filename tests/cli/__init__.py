"""Command-line tests (subprocesses with timeouts for anything that could hang)."""
