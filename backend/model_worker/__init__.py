"""The model worker: one process, started by the web app on demand, that holds the step-through models.

The web server never imports torch; a Next step click becomes a request to this worker over an
authenticated loopback connection (multiprocessing.connection with a random key handed over on the
worker's stdin). The worker serves requests one at a time in arrival order (a model takes every CPU core),
tells waiting requests how many are ahead, keeps recently used models loaded (a small LRU, idle models
unloaded after a timeout) and streams each step's text as tokens arrive.

- `protocol`: the requests and events exchanged.
- `channel`: the authenticated connection, with handshake and request timeouts.
- `streaming`: a backend wrapper that reports the text as tokens are generated.
- `cache`: the loaded models (bounded LRU with idle unloading).
- `server`: the worker process (`python -m backend.model_worker.server`).
- `client`: the web side: starts the worker when needed and turns a step into a stream of events.
"""
