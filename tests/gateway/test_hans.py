"""The page's zh-Hans interface: its character table is OpenCC's, up to date, and enough.

The page maps the characters of its zh-Hant strings through ``static/hans.js`` (scripts/hans_table.py).
That is only right if, for every Chinese string the page shows, a character-by-character mapping gives
what OpenCC gives for the whole string (no phrase in them needs more): checked here string by string.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from qianshi.server.chinese import convert

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "server" / "qianshi" / "server" / "gateway" / "static"
CHINESE_STRING = re.compile(r'"([^"\n]*[\u3400-\u9fff][^"\n]*)"|`([^`\n]*[\u3400-\u9fff][^`\n]*)`')


def table() -> dict[str, str]:
    text = (STATIC / "hans.js").read_text(encoding="utf-8")
    return json.loads(text.split("window.QIANSHI_HANS = ", 1)[1].rstrip().rstrip(";"))


def test_the_table_is_regenerated_from_opencc():
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "hans_table.py"), "--check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr


def test_character_by_character_is_what_opencc_says_for_every_string_the_page_shows():
    hans = table()
    strings = [a or b for a, b in CHINESE_STRING.findall((STATIC / "app.js").read_text(encoding="utf-8"))]
    assert len(strings) > 40
    for text in strings:
        assert "".join(hans.get(c, c) for c in text) == convert(text, "zh-Hans"), text


def test_the_page_offers_the_three_locales():
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    assert all(f'data-lang="{lang}"' in page for lang in ("zh-Hant", "zh-Hans", "en"))
    assert page.index("/static/hans.js") < page.index("/static/app.js")
