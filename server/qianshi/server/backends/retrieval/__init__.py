"""Retrieval: the poem sets and their judgments in Qdrant.

``corpus`` loads and validates the poem sets; ``analyzer`` turns Chinese (and English) text into
sparse vectors; ``passages`` cuts a poem into the passages that are indexed; ``index`` builds the
collections (idempotent, versioned); ``search`` answers queries over them; ``worker`` and
``worker_process`` run the embedded store in its own process; ``remote`` talks to a Qdrant server.
May import ``domain``, ``errors``, ``config`` and this package; nothing of the pipeline or above.
"""
