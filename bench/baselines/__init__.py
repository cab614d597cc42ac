"""BASELINES, not the product: the designs Qianshi is measured against (see bench/README.md).

``naive_server`` runs retrieval and generation as blocking calls on the event loop (the design the
project exists to replace); ``threadpool_server`` runs the same blocking calls in the default thread
pool of the server's own interpreter, with a ticker on the loop. Both serve the same
``qianshi.v1.InterpretService`` contract over the same index and the same vLLM stand-in, so the
benchmark's client reads all three designs alike.

``openai_sdk`` is the LLM relay Qianshi had before issue 13 (through the openai SDK) and
``sdk_server`` the server running it, measured beside the lean relay by ``python -m bench vllm``.
"""
