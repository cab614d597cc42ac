"""Tasks: the registry of running tasks and where their events are kept.

``registry`` starts tasks (admission, request ids, owners), runs them in its task group, lets readers
follow and cancel them, and drains on shutdown; ``memory_log`` (this replica) and the ``redis``
package (shared by replicas; events stored with ``codec``) implement the pipeline's ``EventLog``,
request-id claims included; ``lost`` is the terminal event of a task whose replica was lost; ``ids``
makes task ids (their tag keeps a task's keys in one Redis Cluster slot). May import the pipeline,
``domain``, ``errors`` and ``config``; never a transport, gRPC or protobuf.
"""
