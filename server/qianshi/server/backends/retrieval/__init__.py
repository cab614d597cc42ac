"""Retrieval: the poem sets and their judgments in Qdrant.

``corpus`` loads and validates the poem sets; ``analyzer`` turns Chinese (and English) text into
sparse vectors; ``passages`` cuts a poem into the passages that are indexed; ``index`` is the schema
(collections, points, version) and ``search`` the query and its ranking, both in no engine's types.
Two engines store and search them: Qdrant Edge in-process (``edge``, built in a child process by
``builder``, served by ``embedded``) and a Qdrant server through qdrant-client (``steps``, served by
``remote``); ``store_copy`` copies an embedded store keeping its sparse files sparse. May import ``domain``, ``errors``, ``config`` and this package; nothing of the pipeline
or above.
"""
