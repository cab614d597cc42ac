"""The pipeline: the body of one task, from a validated request to its terminal event.

``requests`` validates; ``interpret`` runs the stages; ``emitter`` numbers and appends a task's
events; ``pacer`` (one per interpreter) ticks every task that falls silent; ``progress`` and
``estimates`` make percent and ETA honest; ``messages`` words them; ``workqueue`` and ``admission``
hold work back in a crowd and queue LLM generations (each a ``line``); ``coalesce`` and ``citations``
shape the text, ``outcome`` reports it; ``eager`` runs a coroutine by hand until it waits;
``failures`` maps every way a task can end; ``events`` are the plain event types; ``seams`` and
``eventlog`` are the protocols the pipeline owns (its backends and the log it appends to). Between
retrieval and generation it works out the task's reading (``reading.plan``) for the generator to
write from. May import ``writing`` and ``reading`` (what a generator is asked for, and the reading),
plus ``domain``, ``errors``, ``config``, ``chinese``; never ``backends``, ``tasks``, a transport, gRPC,
protobuf or the web framework.
"""
