"""Container health check: exit 0 when the gRPC server at ADDRESS (default 127.0.0.1:50051) is SERVING.

Usage: python healthcheck.py [HOST:PORT] [SERVICE]. Uses the standard grpc.health.v1 protocol, the same
one Kubernetes' gRPC probes speak, so no grpc_health_probe binary is needed in the image.
"""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def main(argv: list[str]) -> int:
    address = argv[1] if len(argv) > 1 else "127.0.0.1:50051"
    service = argv[2] if len(argv) > 2 else ""
    try:
        with grpc.insecure_channel(address) as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=2.0
            )
    except grpc.RpcError as exc:
        print(f"unhealthy: {exc.code().name}", file=sys.stderr)
        return 1
    serving = reply.status == health_pb2.HealthCheckResponse.SERVING
    if not serving:
        print(
            f"unhealthy: {health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)}", file=sys.stderr
        )
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
