"""Observability: Prometheus ``metrics``, OpenTelemetry ``tracing`` and structured ``logs``.

They watch the event log from outside (an observer wraps it) and the gRPC calls (an interceptor), so
nothing below the transport knows they exist. May import the pipeline's event types, ``domain`` and
``errors``.
"""
