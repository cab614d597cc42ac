"""``qianshi-gateway``'s options: flags, their QIANSHI_GATEWAY_* equivalents, the settings they make."""

from __future__ import annotations

import subprocess
import sys

import pytest
from qianshi.server.gateway.main import split_host_port
from qianshi.server.gateway.settings import OPTIONS, Settings, parse


def test_defaults_are_the_documented_ones():
    args = parse([])
    assert (args.listen, args.backend) == ("127.0.0.1:8080", "127.0.0.1:50051")
    assert Settings.from_args(args) == Settings()


def test_flags_and_environment(monkeypatch):
    monkeypatch.setenv("QIANSHI_GATEWAY_BACKEND", "server:50051")
    monkeypatch.setenv("QIANSHI_GATEWAY_HEARTBEAT", "2.5")
    monkeypatch.setenv("QIANSHI_LISTEN", "0.0.0.0:50051")  # the server's variable: not the gateway's
    args = parse(
        ["--cors-origins", "https://a.example, https://b.example", "--grace", "60", "--backend-tls", "yes"]
    )
    settings = Settings.from_args(args)
    assert args.listen == "127.0.0.1:8080"
    assert settings.backend == "server:50051" and settings.heartbeat_s == 2.5 and settings.grace_s == 60
    assert settings.cors_origins == ("https://a.example", "https://b.example") and settings.backend_tls


def test_every_option_has_help_and_a_gateway_variable():
    assert {o.env for o in OPTIONS} == {
        "QIANSHI_GATEWAY_" + o.flag[2:].replace("-", "_").upper() for o in OPTIONS
    }
    result = subprocess.run(
        [sys.executable, "-m", "qianshi.server.gateway.main", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in OPTIONS:
        assert option.flag in result.stdout and f"[{option.env}]" in result.stdout


@pytest.mark.parametrize(
    ("listen", "expected"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("[::1]:9000", ("::1", 9000)), (":8080", ("127.0.0.1", 8080))],
)
def test_listen_addresses(listen, expected):
    assert split_host_port(listen) == expected


def test_a_listen_address_without_a_port_is_refused():
    with pytest.raises(SystemExit):
        split_host_port("localhost")
