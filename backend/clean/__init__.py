"""Cleaning recordings before slicing: vocals/music separation, de-reverb/de-echo, denoise.

- :mod:`.catalogue`: the models of each step, their sources and the settings the runner needs.
- :mod:`.fetch`: the models folder and downloading into it (progress, resume, offline rules).
- :mod:`.runner`: audio-separator, driven offline from that folder.
- :mod:`.chain`: one recording through the chosen steps, a chunk at a time, in bounded memory.
- :mod:`.api`: what a screen calls: submit a clean job, preview an excerpt.

The stage itself (CLI, batch, resume, summary) is :mod:`backend.stages.clean`.
"""
