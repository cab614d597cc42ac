"""The seams the pipeline owns: what it needs from a retriever, a generator and an event log.

Real implementations live in ``qianshi.server.backends``; tests use small fakes of one seam at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Protocol

from qianshi.server.domain import Passage, Poem, PoemSet, Query
from qianshi.server.writing import GenerationChunk, GenerationRequest


class Retriever(Protocol):
    """Finds poems by exact key and the passages relevant to a question.

    Raises ``errors.NotFound`` for an unknown set or poem, ``errors.BackendUnavailable`` /
    ``errors.BackendTimeout`` when the store cannot answer. Cancelling the awaiting task abandons the
    request (the backend sees the cancel where it can).
    """

    name: str
    """Short name of the backend, used to key learned estimates (for example "embedded")."""

    def launch(self) -> None:
        """Start background processes without waiting for them (called before the gRPC server
        starts: no process may be forked once gRPC runs)."""
        ...

    async def start(self, progress: Callable[[int, int], None] | None = None) -> object:
        """Open the store, building or updating the index when needed; ``progress(done, total)``
        reports indexing. Returns when the store is ready to answer (what it returns, if anything,
        is a report for the logs)."""
        ...

    async def sets(self) -> Sequence[PoemSet]:
        """Every poem set the store holds, in a stable order."""
        ...

    async def poem(self, set_id: str, number: int) -> Poem:
        """One poem, by exact key."""
        ...

    async def passages(self, query: Query) -> Sequence[Passage]:
        """The passages of poem (query.set_id, query.number) most relevant to the query, best first,
        with ``citation`` numbered 1, 2, 3 … in that order."""
        ...

    async def aclose(self) -> None:
        """Release the store's resources (worker processes, connections)."""
        ...


class Generator(Protocol):
    """Writes an interpretation as a stream of text chunks.

    ``stream`` yields chunks with text as it is produced and ends with exactly one chunk with
    ``final=True`` carrying usage and the finish reason. Closing or cancelling the iterator aborts the
    generation in the engine (implementations do it in ``finally``). Failures raise the backend errors
    of ``qianshi.server.errors`` with the text so far in ``partial_text``.
    """

    name: str
    """Name of the generator: "grounded", "openai" or "vllm"."""
    model: str
    """The model it runs; empty for the grounded generator."""

    def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        """Generate the interpretation for ``request``."""
        ...

    async def aclose(self) -> None:
        """Release the generator's resources."""
        ...
