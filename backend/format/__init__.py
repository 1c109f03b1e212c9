"""Dataset formatting (the official 1A step): a reviewed ``.list`` becomes the experiment folder.

Steps, each over every clip of the transcript:

- ``text``: phones, word2ph and normalised text (``2-name2text.txt``) and, for Chinese, BERT
  features (``3-bert/<item>.pt``);
- ``ssl``: the 32 kHz training wav (``5-wav32k/<item>``) and HuBERT features
  (``4-cnhubert/<item>.pt``), then for v2Pro/v2ProPlus the speaker embedding
  (``7-sv_cn/<item>.pt``);
- ``semantic``: semantic tokens of the base SoVITS model (``6-name2semantic.tsv``).

The folder is the official one, byte-compatible in names and formats (see :mod:`.layout`). What we
add beside it is a hidden ``.gsv-format/`` folder of per-step journals: one JSON line per item,
flushed as each item finishes, holding a hash of everything the item's output depends on (its
transcript fields, its audio file, the model files, the version). A killed run resumes where it
stopped; a re-run after the transcript changed recomputes only the items whose inputs changed;
changing version re-does the phones (the official one-click tool silently keeps stale ones).

Entry point: :func:`backend.format.runner.run_format` (used by the ``format`` stage).
"""
