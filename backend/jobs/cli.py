"""``gsv jobs …`` and the per-stage subcommands (filled in by the jobs module)."""

from __future__ import annotations

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add ``jobs`` and one subcommand per stage to the ``gsv`` parser."""
