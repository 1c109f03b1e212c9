"""gsv-tui backend: everything that does the work, with no knowledge of the TUI.

Rule of the house: nothing under ``backend`` imports Textual, and modules that the CLI and
the TUI import at start-up keep torch, transformers and the ASR engines behind function-level
imports, so both start in well under a second.
"""
