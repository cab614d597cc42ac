"""The HTTP/SSE transport for browsers (``qianshi-gateway``): a thin Starlette app that calls the gRPC
service through the client library and serves the web page. It talks to the server over gRPC only: it
imports the client library, ``config`` and ``observability``, never the tasks, the pipeline or the
backends.
"""
