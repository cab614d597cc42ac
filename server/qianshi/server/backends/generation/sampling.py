"""How an LLM samples an interpretation: defaults that keep small models on track, configurable.

* ``temperature`` 0.3 unless the request sets one: a reading follows a plan, it is not a story.
* ``frequency_penalty`` 0.8: OpenAI's penalty on tokens the *output* has already used, in proportion
  to how often — it breaks the loops a small model falls into without touching the prompt's words.
  On SmolLM2-135M with prompt v2, 32 English questions (the "before" set): 14 of 32 readings ended by
  the model's own end-of-sequence at 0, 28 at 0.5, 32 at 0.8 (bench/README.md, "LLM readings").
* ``repetition_penalty`` off (1.0). vLLM applies it to every token already in the prompt *and* the
  output, so it also pushes the model away from the plan's words, the poem's characters and the [n]
  markers a reading must repeat: at 1.1 and 1.15 the same model ended 1 of 10 readings and wrote word
  salad in mixed scripts (at 1.0: 5 of 10, with the same prompt).
* ``repetition_detection`` on: vLLM (≥ 0.17) ends a request whose last tokens are one pattern of
  ``min``–``max`` tokens repeated ``count`` times, with ``finish_reason: "repetition"`` — a backstop
  in the engine for a loop that no clause ends (the guard's loop check works on clauses).
* ``stream_interval`` 4: vLLM (≥ 0.32 per request) sends the text in chunks of four tokens (the first
  and the last at once) instead of one chunk per token. A chunk costs the relay about the same
  whatever it holds — a wake-up, SSE and JSON decoding, the coalescer, and mostly the text delta it
  becomes — so the server's CPU per token falls with the tokens a chunk (100 streams × 50 tokens/s
  on the stand-in: 172 µs a token one a chunk, 94 at four, 54 at eight; bench/README.md), and vLLM
  saves its own per-chunk work. At 50 tokens/s a chunk is 80 ms of text. Chunks of several tokens
  need the token count on each (``stream_options.continuous_usage_stats``, sent with it) for honest
  progress. 1: every token as made (any OpenAI-compatible server).

``openai_fields`` is the body fragment for an OpenAI-compatible server (vLLM's ``repetition_penalty``
is sent only when set); ``engine_options`` the keyword arguments of vLLM's ``SamplingParams``
in-process (``vllm_engine`` turns the detection triple into vLLM's own type). A server that is not vLLM
and refuses ``repetition_detection`` or ``stream_interval`` is served with
``--llm-repetition-detection off --llm-stream-interval 1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qianshi.server.writing import GenerationRequest


@dataclass(frozen=True, slots=True)
class Sampling:
    temperature: float = 0.3
    """Used when the request does not set one."""
    frequency_penalty: float = 0.8
    """0: off."""
    repetition_penalty: float = 1.0
    """1.0: off (vLLM's default)."""
    repetition_detection: tuple[int, int, int] | None = (2, 64, 3)
    """(min pattern tokens, max pattern tokens, repeats), or None: off."""
    stream_interval: int = 4
    """Tokens per streamed chunk (vLLM's ``stream_interval``); 1: every token as it is made."""

    def _common(self, request: GenerationRequest) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "max_tokens": request.max_tokens,
            "temperature": self.temperature if request.temperature is None else request.temperature,
        }
        if request.seed is not None:
            fields["seed"] = request.seed
        if self.frequency_penalty:
            fields["frequency_penalty"] = self.frequency_penalty
        if self.repetition_penalty != 1.0:
            fields["repetition_penalty"] = self.repetition_penalty
        if self.stream_interval > 1:
            fields["stream_interval"] = self.stream_interval
        return fields

    def openai_fields(self, request: GenerationRequest) -> dict[str, Any]:
        """The sampling fields of a chat completions request body."""
        fields = self._common(request)
        if self.repetition_detection is not None:
            low, high, count = self.repetition_detection
            fields["repetition_detection"] = {
                "min_pattern_size": low,
                "max_pattern_size": high,
                "min_count": count,
            }
        return fields

    def engine_options(self, request: GenerationRequest, max_tokens: int) -> dict[str, Any]:
        """Keyword arguments for vLLM's ``SamplingParams`` (``max_tokens`` as the prompt leaves room)."""
        options = self._common(request)
        options["max_tokens"] = max_tokens
        if self.repetition_detection is not None:
            options["repetition_detection"] = self.repetition_detection  # made vLLM's by vllm_engine
        return options


def parse_detection(value: str) -> tuple[int, int, int] | None:
    """``--llm-repetition-detection``: "off", or MIN,MAX,COUNT (pattern tokens and repeats)."""
    if value.strip().lower() in ("off", "none", "0", ""):
        return None
    try:
        low, high, count = (int(part) for part in value.split(","))
    except ValueError:
        raise ValueError(f"expected off or MIN,MAX,COUNT (for example 2,64,3), got {value!r}") from None
    if not (1 <= low <= high and count >= 2):
        raise ValueError(f"need 1 <= MIN <= MAX and COUNT >= 2, got {value!r}")
    return low, high, count
