"""Generation: the generators that write an interpretation as a stream of text.

``prompt`` builds the versioned LLM prompt; ``openai_api`` streams from a vLLM server (or any
OpenAI-compatible one) over aiohttp with ``sse`` reading the events and ``openai_errors`` translating
its failures; ``vllm_engine`` runs vLLM in-process; ``grounded/`` composes a reading from the
retrieved texts without a model; ``fallback`` answers with the grounded generator when the LLM fails
before writing. (The modules are not named ``openai``/``vllm`` so that they never read as the
libraries they wrap.) May import ``domain``, ``errors``, ``config`` and this package only.
"""
