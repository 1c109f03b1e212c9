"""Text frontend: text → the official phoneme ids, word2ph and normalised text.

Entry points (imports are deliberately lazy; this package pulls in nothing heavy):

- :func:`backend.text.cleaner.clean_text` ``(text, language, version)`` → phones, word2ph,
  norm_text; :func:`backend.text.cleaner.cleaned_text_to_sequence` → ids;
- :mod:`backend.text.symbols`: the v1 (322) / v2 (732) symbol tables;
- :mod:`backend.text.korean` (g2pk2 + MeCab) and :mod:`backend.text.cantonese` (ToJyutping):
  the v2 Korean and Cantonese frontends behind ``clean_text``;
- :mod:`backend.text.langsplit`: UI language options (auto, all_zh, …) over mixed text;
- :mod:`backend.text.bert`: Chinese BERT features aligned to phones;
- :mod:`backend.text.data`: where the runtime data lives and how it is fetched;
- ``gsv g2p`` (:mod:`backend.cli.g2p`) on the command line.
"""
