"""Tracked jobs: stages run as detached subprocesses that outlive the TUI and the SSH session."""
