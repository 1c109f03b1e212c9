"""``gsv serve``: the voice over HTTP, compatible with the official ``api_v2.py`` and ``api.py``.

- :mod:`.voice` — the one adapter onto the synthesis code (loaded voices, reference cache);
- :mod:`.worker` — the model worker thread and its bounded request queue;
- :mod:`.requests` — the request shapes, defaults and api_v2's validation messages;
- :mod:`.media` — wav/raw/ogg/aac/opus/flac/mp3 bodies (PyAV, libsndfile; no system ffmpeg);
- :mod:`.safety` — confined paths, the token, loopback checks, size limits;
- :mod:`.app` — the FastAPI application;
- :mod:`.server` — uvicorn on a bound socket, started and stopped by the ``serve`` stage.
"""
