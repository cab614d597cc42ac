"""Rewrite the option tables in README.md from the code (tests/test_docs.py checks they match).

Usage: python scripts/options_table.py
"""

from __future__ import annotations

import re
from pathlib import Path

from qianshi.server import config
from qianshi.server.gateway import settings

README = Path(__file__).resolve().parent.parent / "README.md"
MARKERS = {
    "server-options": config.options_table(),
    "gateway-options": config.options_table(settings.OPTIONS),
}


def main() -> None:
    text = README.read_text(encoding="utf-8")
    for name, table in MARKERS.items():
        pattern = re.compile(rf"(<!-- {name} -->\n).*?(\n<!-- /{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- {name} --> … <!-- /{name} --> block")
        text = pattern.sub(lambda m, t=table: m.group(1) + t + m.group(2), text)
    README.write_text(text, encoding="utf-8")
    print("README.md option tables updated")


if __name__ == "__main__":
    main()
