"""BASELINE: ``qianshi-server`` with the LLM relay it had before issue 13 (the openai SDK).

    python -m bench.baselines.sdk_server --llm openai --llm-url URL [any qianshi-server option]

The same server in every other respect: ``wiring`` looks the generator class up in
``openai_api`` when it builds it, so the SDK generator (``openai_sdk.SDKGenerator``) is put there
first. ``python -m bench vllm`` runs it beside the lean relay to measure both in one run.
"""

from __future__ import annotations

from qianshi.server.backends.generation import openai_api
from qianshi.server.main import main

from bench.baselines.openai_sdk import SDKGenerator

if __name__ == "__main__":
    openai_api.OpenAIGenerator = SDKGenerator  # type: ignore[misc, assignment]
    main()
