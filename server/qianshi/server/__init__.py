"""The Qianshi server: the gRPC service, the pipeline, the backends and the SSE gateway.

Dependencies flow one way: transport (``service``, ``gateway``) → ``pipeline`` → ``backends``, all of
them over the plain types of ``domain`` and ``errors``. Protobuf and HTTP types stop at the transport.
"""
