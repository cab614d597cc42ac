"""The HTTP transport for browsers (``qianshi-gateway``): a thin Starlette app that calls the gRPC
service through the client library and streams Server-Sent Events to the web page, and relays
gRPC-Web and Connect calls of generated web clients to it (``rpc.py``, on connectrpc). It talks to
the server over gRPC only: it imports the client library, the generated stubs, ``config`` and
``observability``, never the tasks, the pipeline or the backends.
"""
