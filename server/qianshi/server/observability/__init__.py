"""Observability: Prometheus ``metrics``, OpenTelemetry ``tracing`` and structured ``logs``; ``aggregate``
serves the metrics of ``--workers`` processes from one endpoint.

They watch the event log from outside (an observer wraps it) and the gRPC calls (an interceptor), so
nothing below the transport knows they exist. May import the pipeline's event types, ``domain`` and
``errors``.
"""
