"""The gsv-tui terminal app: one Textual app with a mode per pipeline stage plus Jobs.

Start-up stays light: nothing imported here (or by ``app``) may pull in torch, transformers or
funasr — those live in the stage subprocesses the app starts as jobs.
"""
