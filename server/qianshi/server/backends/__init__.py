"""The backends: where the pipeline's work is really done.

``retrieval/`` finds the poem and the judgments in Qdrant; ``generation/`` writes the interpretation
(an LLM through vLLM, or the grounded generator that needs no model). Backends implement the seams the
pipeline owns (``pipeline/seams.py``) without importing them: they may import ``domain``, ``errors``
and ``config`` and their own packages, never the pipeline, the tasks or a transport.
"""
