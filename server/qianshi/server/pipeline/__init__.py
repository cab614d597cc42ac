"""The pipeline: the body of one task, from a validated request to its terminal event.

``requests`` validates; ``interpret`` runs the stages; ``pacer`` races each stage's work against the
silence timer; ``progress`` and ``estimates`` make percent and ETA honest; ``messages`` words them;
``admission`` queues LLM generations; ``coalesce`` and ``citations`` shape the text; ``failures`` maps
every way a task can end; ``events`` are the plain event types; ``seams`` and ``eventlog`` are the
protocols the pipeline owns (its backends and the log it appends to). Between retrieval and generation
it works out the task's reading (``reading.plan``) for the generator to write from. May import
``writing`` and ``reading`` (what a generator is asked for, and the reading), plus ``domain``,
``errors``, ``config``, ``chinese``; never ``backends``, ``tasks``, a transport, gRPC, protobuf or the web
framework.
"""
