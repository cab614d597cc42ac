"""The guard: an LLM's text, checked while it streams, before a caller sees it.

``text`` is the check of one stream (``TextGuard``: what to release, what tripped), built from
``scripts`` (which writing systems a locale reads, and which text is foreign to it), ``loops``
(degenerate repetition), ``citations`` (markers that name no passage) and ``answer`` (what a finished
text answers, against the reading's plan); ``generator`` wraps an LLM generator with it and lets the
grounded reading stand in when the model goes wrong before much has been said. May import ``domain``,
``errors``, ``config``, ``chinese``, ``writing``, ``reading`` and ``backends.generation``.
"""
