"""The shared event log in Redis: ``log`` (``RedisEventLog``, the pipeline's ``EventLog``), with
``io`` (error translation, the batched writer), ``scripts`` (key names, Lua scripts) and ``leases``
(replica leases and the sweep for lost replicas). May import the ``tasks`` modules beside it
(``codec``, ``lost``, ``memory_log``), the pipeline, ``domain``, ``errors`` and ``config``; never a
transport, gRPC or protobuf.
"""
