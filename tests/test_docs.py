"""The README documents every option of both commands, exactly as ``--help`` has them."""

from __future__ import annotations

from pathlib import Path

from qianshi.server import config
from qianshi.server.gateway import settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_has_the_server_options_table():
    assert config.options_table() in README, "regenerate: python scripts/options_table.py"


def test_readme_has_the_gateway_options_table():
    assert config.options_table(settings.OPTIONS) in README, "regenerate: python scripts/options_table.py"


def test_every_flag_is_in_help():
    help_text = config.parser().format_help()
    for option in config.OPTIONS:
        assert option.flag in help_text and option.env in help_text
