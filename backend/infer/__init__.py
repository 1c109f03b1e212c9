"""The TTS pipeline (reference clip + its text + new text → speech), as the official inference.

Entry points (torch is imported only when they run):

- :func:`backend.infer.models.load_models` — a checked GPT/SoVITS pair (+ HuBERT/BERT on demand);
- :class:`backend.infer.pipeline.Synthesizer` — ``synthesize(SynthesisParams, progress, on_piece)``
  returns a :class:`~backend.infer.pipeline.SynthesisResult` (float audio, sample rate, the seed
  used, per-piece info, warnings, timings; ``save(path)`` writes the 16-bit wav);
- :mod:`backend.infer.params` — :class:`SynthesisParams` and the option tables (no torch);
- :mod:`backend.infer.reference` — the 3–10 s rule and the trimmed/best windows;
- :mod:`backend.infer.weights_choice` — the project's exported weights and the pretrained bases.
"""
