"""Fixtures of the gateway tests: real ``qianshi-server`` backends (the embedded index built once per
session, tests/service/conftest.py) and a headless Chromium for the page."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from qianshi.server.serving import Running

from tests.service.conftest import server_with

TICK_S = 0.2
"""The backends' tick interval (retrieval and generation): the cadence bound the page is held to."""

CHROMIUM = os.environ.get("QIANSHI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def backend(built_state: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """A server whose streams take a moment: the grounded generator writes a clause every 0.3 s and
    ticks (every 0.2 s) fill the silence between them, as they would between an LLM's slow tokens."""
    async with server_with(
        built_state,
        tmp_path_factory.mktemp("gateway-backend"),
        "--tick-retrieval",
        str(TICK_S),
        "--tick-generation",
        str(TICK_S),
        "--grounded-pace",
        "0.3",
    ) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def fast_backend(built_state: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """A server that writes as fast as it composes (for the HTTP tests that read whole streams)."""
    async with server_with(
        built_state,
        tmp_path_factory.mktemp("gateway-fast-backend"),
        "--tick-retrieval",
        str(TICK_S),
        "--tick-generation",
        str(TICK_S),
        "--grounded-pace",
        "0",
    ) as running:
        yield running


def chromium_or_skip() -> str:
    """The Debian chromium binary; skip when it is missing, unless in CI (then fail)."""
    path = shutil.which(CHROMIUM) or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if path is None:
        message = f"no Chromium at {CHROMIUM}: apt-get install chromium (scripts/test.sh does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest_asyncio.fixture(loop_scope="session", scope="session")
async def browser() -> AsyncIterator[object]:
    """A headless Chromium (Debian's package, driven by Playwright)."""
    executable = chromium_or_skip()
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()
