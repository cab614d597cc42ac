"""Tasks: the registry of running tasks and where their events are kept.

``registry`` starts tasks (admission, request ids, owners), runs them in its task group, lets readers
follow and cancel them, and drains on shutdown; ``memory_log`` (this replica) and ``redis_log``
(shared by replicas, with ``redis_io`` and ``codec``) implement the pipeline's ``EventLog``. May import
the pipeline, ``domain``, ``errors`` and ``config``; never a transport, gRPC or protobuf.
"""
