"""deploy/ stays consistent with the code: files parse, services and probes line up, every flag exists.

Docker cannot run here, so these tests check what can be checked without it: the YAML parses, the
compose file has the topology DESIGN.md describes and only references what it defines, every
``--flag`` and ``QIANSHI_*`` variable given to a qianshi process exists in its ``--help``, the
Kubernetes selectors, ports and probes match, Envoy's filter chain and timeouts are the ones FACTS.md
asks for, and the image's health check works against a real gRPC health service. Grafana's
provisioning and dashboards: test_grafana.py.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from qianshi.server import config

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to check deploy/ (a dev dependency)")

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
GATEWAY_FLAGS = {"--listen", "--backend"}
GATEWAY_ENV = {"QIANSHI_GATEWAY_LISTEN", "QIANSHI_GATEWAY_BACKEND"}
SERVICES = {
    "qdrant",
    "vllm-a",
    "vllm-b",
    "vllm-router",
    "redis",
    "server",
    "envoy",
    "gateway",
    "prometheus",
    "grafana",
}
ROUTER_FLAGS = {"--host", "--port", "--worker-urls", "--policy", "--prometheus-host", "--prometheus-port"}
"""The vllm-router 0.1.17 flags deploy/ uses (tests/vllm/test_router.py runs the real one with them)."""


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


@pytest.fixture(scope="module")
def server_help() -> str:
    done = subprocess.run(
        [sys.executable, "-m", "qianshi.server.main", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def gateway_help() -> str | None:
    done = subprocess.run(
        [sys.executable, "-m", "qianshi.server.gateway.main", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.stdout if done.returncode == 0 else None


@pytest.fixture(scope="module")
def gateway_flags(gateway_help: str | None) -> set[str]:
    """The gateway's flags: from its --help once it exists, else the two it is specified to have."""
    return GATEWAY_FLAGS if gateway_help is None else set(re.findall(r"(--[a-z][a-z0-9-]*)", gateway_help))


@pytest.fixture(scope="module")
def gateway_env(gateway_help: str | None) -> set[str]:
    """The gateway's environment variables (in brackets in its --help), else the specified two."""
    return GATEWAY_ENV if gateway_help is None else set(re.findall(r"\[(QIANSHI_[A-Z_]+)\]", gateway_help))


def flags(argv: list[str]) -> set[str]:
    return {a.split("=", 1)[0] for a in argv if a.startswith("--")}


def check_flags(argv: list[str], server_help: str, gateway_flags: set[str]) -> None:
    program = Path(argv[0]).name
    assert program in ("qianshi-server", "qianshi-gateway"), argv
    known = (
        gateway_flags
        if program == "qianshi-gateway"
        else set(re.findall(r"(--[a-z][a-z0-9-]*)", server_help))
    )
    unknown = flags(argv[1:]) - known
    assert not unknown, f"{program} has no {sorted(unknown)}"


SERVER_ENV = {opt.env for opt in config.OPTIONS}


# compose ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(DEPLOY / "docker-compose.yml")


def test_compose_has_the_topology(compose):
    services = compose["services"]
    assert set(services) == SERVICES
    assert services["server"]["deploy"]["replicas"] == 2
    gpus = set()
    for name in ("vllm-a", "vllm-b"):
        gpu = services[name]["deploy"]["resources"]["reservations"]["devices"][0]
        assert gpu["capabilities"] == ["gpu"]
        gpus.update(gpu["device_ids"])
        assert "--model" in services[name]["command"]
        assert services[name]["image"].startswith("vllm/vllm-openai")
    assert len(gpus) == 2  # one GPU each
    assert services["envoy"]["image"].startswith("envoyproxy/envoy")
    assert services["qdrant"]["image"].startswith("qdrant/qdrant")


def test_compose_puts_the_router_in_front_of_both_vllms(compose):
    services = compose["services"]
    router = services["vllm-router"]
    command = router["command"]
    assert flags(command) <= ROUTER_FLAGS
    workers = command[command.index("--worker-urls") + 1 : command.index("--policy")]
    assert workers == ["http://vllm-a:8000", "http://vllm-b:8000"]
    assert set(router["depends_on"]) == {"vllm-a", "vllm-b"}
    dockerfile = (DEPLOY / router["build"]["context"] / router["build"]["dockerfile"]).read_text()
    assert "vllm-router==0.1.17" in dockerfile
    assert "vllm-router" in services["server"]["depends_on"]


def test_compose_references_only_what_it_defines(compose):
    services = compose["services"]
    named_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        for dependency in service.get("depends_on") or {}:
            assert dependency in services, f"{name} depends on unknown {dependency}"
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in named_volumes, f"{name} mounts undeclared volume {source}"
        for port in service.get("ports") or []:
            assert re.fullmatch(r"\d+:\d+", port), port
        build = service.get("build")
        if build:
            assert (DEPLOY / build["context"] / build["dockerfile"]).exists()


def test_compose_wires_the_server_to_its_backends(compose, server_help, gateway_flags):
    server = compose["services"]["server"]["command"]
    check_flags(server, server_help, gateway_flags)
    args = dict(zip(server[1::2], server[2::2], strict=False))
    assert args["--qdrant-url"] == "http://qdrant:6333"
    assert args["--llm"] == "openai"
    assert args["--llm-url"] == "http://vllm-router:8000/v1"
    assert args["--event-log"] == "redis://redis:6379/0"
    assert args["--metrics-listen"] == "0.0.0.0:9464"
    gateway = compose["services"]["gateway"]["command"]
    check_flags(gateway, server_help, gateway_flags)
    assert gateway[gateway.index("--backend") + 1] == "envoy:8081"


# Dockerfile -------------------------------------------------------------------------------------------


def test_dockerfile_builds_a_non_root_image_with_both_commands(gateway_env):
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    froms = re.findall(r"^FROM (\S+)", text, re.M)
    assert len(froms) == 2
    assert all(f == "python:3.11-slim" for f in froms)
    assert re.search(r"^USER (?!root|0\b)\S+", text, re.M)
    assert re.search(r"^EXPOSE 50051 8080 9464$", text, re.M)
    assert "HEALTHCHECK" in text
    for source in re.findall(r"^COPY (?!--from)(\S+)", text, re.M):
        assert (ROOT / source).exists(), f"COPY of missing {source}"
    for env in re.findall(r"\b(QIANSHI_[A-Z_]+)=", text):
        assert env in SERVER_ENV | gateway_env, env
    cmd = re.search(r'^CMD \["([^"]+)"', text, re.M)
    assert cmd is not None
    assert cmd.group(1) == "qianshi-server"
    scripts = load_pyproject_scripts()
    assert {"qianshi-server", "qianshi-gateway"} <= scripts


def load_pyproject_scripts() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(data["project"]["scripts"])


# Kubernetes -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        docs += load_all(path)
    return docs


def of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def test_manifests_are_well_formed_and_namespace_less(manifests):
    kinds = {m["kind"] for m in manifests}
    assert {"Deployment", "Service", "PodDisruptionBudget", "ConfigMap"} <= kinds
    for m in manifests:
        assert m["apiVersion"] and m["metadata"]["name"]
        assert "namespace" not in m["metadata"]


def test_selectors_ports_and_probes_line_up(manifests):
    deployments = of_kind(manifests, "Deployment")
    labels = [d["spec"]["template"]["metadata"]["labels"] for d in deployments]
    for d in deployments:
        assert (
            d["spec"]["selector"]["matchLabels"].items()
            <= d["spec"]["template"]["metadata"]["labels"].items()
        )
    for service in of_kind(manifests, "Service") + of_kind(manifests, "PodDisruptionBudget"):
        selector = service["spec"]["selector"]
        selector = selector.get("matchLabels", selector)
        targets = [d for d, lab in zip(deployments, labels, strict=True) if selector.items() <= lab.items()]
        assert targets, f"{service['metadata']['name']} selects no Deployment"
        if service["kind"] == "Service":
            names = {
                p["name"]
                for d in targets
                for c in d["spec"]["template"]["spec"]["containers"]
                for p in c["ports"]
            }
            for port in service["spec"]["ports"]:
                assert port["targetPort"] in names
    server = next(d for d in deployments if d["metadata"]["name"] == "qianshi-server")
    assert server["spec"]["replicas"] == 2
    router = next(d for d in deployments if d["metadata"]["name"] == "vllm-router")
    argv = router["spec"]["template"]["spec"]["containers"][0]["args"]
    workers = argv[argv.index("--worker-urls") + 1 : argv.index("--policy")]
    services = {s["metadata"]["name"] for s in of_kind(manifests, "Service")}
    assert [w.removeprefix("http://").split(":")[0] for w in workers] == ["vllm-a", "vllm-b"]
    assert {"vllm-a", "vllm-b", "vllm-router"} <= services
    container = server["spec"]["template"]["spec"]["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == 50051
    assert container["resources"]["requests"] and container["resources"]["limits"]


def test_every_option_given_to_a_qianshi_process_exists(manifests, server_help, gateway_flags, gateway_env):
    configmaps = {m["metadata"]["name"]: m for m in of_kind(manifests, "ConfigMap")}
    for d in of_kind(manifests, "Deployment"):
        for c in d["spec"]["template"]["spec"]["containers"]:
            argv = c.get("command", []) + c.get("args", [])
            if c["image"].startswith("vllm-router"):
                assert flags(argv) <= ROUTER_FLAGS, d["metadata"]["name"]
                continue
            if c["image"].startswith("vllm/vllm-openai"):
                assert "--model" in argv
                continue
            check_flags(argv, server_help, gateway_flags)
            envs = {e["name"] for e in c.get("env", [])}
            for ref in c.get("envFrom", []):
                envs |= set(configmaps[ref["configMapRef"]["name"]]["data"])
            known = gateway_env if Path(argv[0]).name == "qianshi-gateway" else SERVER_ENV
            assert envs <= known, f"{d['metadata']['name']}: unknown {sorted(envs - known)}"


def test_the_configmap_parses_as_the_server_would(manifests):
    data = next(m for m in of_kind(manifests, "ConfigMap") if m["metadata"]["name"] == "qianshi-server")[
        "data"
    ]
    for opt in config.OPTIONS:
        if opt.env in data:
            opt.type(data[opt.env])  # raises when a value would be refused at start
            if opt.choices:
                assert data[opt.env] in opt.choices


# Envoy and Prometheus ---------------------------------------------------------------------------------


def test_envoy_is_configured_for_long_grpc_web_streams():
    envoy = load(DEPLOY / "envoy.yaml")
    listener = envoy["static_resources"]["listeners"][0]
    hcm = listener["filter_chains"][0]["filters"][0]["typed_config"]
    names = [f["name"] for f in hcm["http_filters"]]
    assert names == ["envoy.filters.http.grpc_web", "envoy.filters.http.cors", "envoy.filters.http.router"]
    assert int(hcm["stream_idle_timeout"].rstrip("s")) >= 60  # far past the 1.2 s tick
    vhost = hcm["route_config"]["virtual_hosts"][0]
    assert vhost["routes"][0]["route"]["timeout"] == "0s"
    cors = vhost["typed_per_filter_config"]["envoy.filters.http.cors"]
    assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= set(
        cors["expose_headers"].split(",")
    )
    cluster = envoy["static_resources"]["clusters"][0]
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    assert "http2_protocol_options" in options["explicit_http_config"]
    assert cluster["lb_policy"] == "ROUND_ROBIN"
    address = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
        "socket_address"
    ]
    assert (address["address"], address["port_value"]) == ("server", 50051)
    assert listener["address"]["socket_address"]["port_value"] == 8081


def test_prometheus_scrapes_what_compose_runs(compose):
    prometheus = load(DEPLOY / "prometheus.yml")
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    dns = jobs["qianshi-server"]["dns_sd_configs"][0]
    assert dns["names"] == ["server"]
    assert dns["port"] == 9464
    server = compose["services"]["server"]["command"]
    assert server[server.index("--metrics-listen") + 1].endswith(":9464")
    assert jobs["qianshi-gateway"]["static_configs"][0]["targets"] == ["gateway:8080"]
    assert {"server", "gateway", "envoy"} <= set(compose["services"])


# the image's health check -----------------------------------------------------------------------------


async def run_healthcheck(address: str) -> int:
    argv = [sys.executable, str(DEPLOY / "healthcheck.py"), address]
    process = await asyncio.create_subprocess_exec(*argv, stderr=asyncio.subprocess.DEVNULL)
    async with asyncio.timeout(30):
        return await process.wait()


async def test_the_health_check_follows_the_grpc_health_status():
    health = HealthServicer()
    server = grpc.aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        await health.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert await run_healthcheck(f"127.0.0.1:{port}") == 1
        await health.set("", health_pb2.HealthCheckResponse.SERVING)
        assert await run_healthcheck(f"127.0.0.1:{port}") == 0
    finally:
        await server.stop(None)
    assert await run_healthcheck(f"127.0.0.1:{port}") == 1  # nothing listens


def test_readme_commands_use_real_files():
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    for command in re.findall(r"`([^`]*docker compose[^`]*)`", text):
        for word in shlex.split(command):
            if word.startswith("deploy/"):
                assert (ROOT / word).exists(), word
