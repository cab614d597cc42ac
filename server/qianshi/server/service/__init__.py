"""The gRPC transport: ``interpret_service`` (the servicer), ``convert`` (protobuf ⇄ the pipeline's
plain types, the only place that knows both), ``status`` (errors → gRPC statuses, in one place),
``auth`` and ``security`` (tokens, TLS, request limits). May import everything below it: the tasks,
the pipeline, ``domain``, ``errors``, ``config``; never the gateway.
"""
