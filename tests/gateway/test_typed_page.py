"""The typed page (/typed: web/src/typed.ts on @connectrpc/connect-web) in a real headless Chromium,
over Connect and over gRPC-Web, against a real gateway and server; and its bundle is fresh."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from qianshi.client import AsyncClient
from qianshi.server.gateway.settings import Settings
from qianshi.server.main import Running

from tests.ci import in_ci
from tests.gateway.conftest import ARTIFACTS
from tests.gateway.harness import Gateway, gateway
from tests.service.conftest import retrieval_held

ROOT = Path(__file__).resolve().parents[2]
ENDED = "body[data-state=done], body[data-state=error], body[data-state=cancelled]"
PROTOCOLS = ("connect", "grpcweb")


def test_the_generated_client_and_the_bundle_are_fresh():
    """web/src/gen and static/typed.js are what protos/ and web/src give (scripts/build_web.py)."""
    if shutil.which("npm") is None:
        if in_ci():
            pytest.fail("npm is not installed (scripts/test.sh installs nodejs and npm)")
        pytest.skip("npm is not installed")
    result = subprocess.run(
        [sys.executable, "scripts/build_web.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def typed_gw(backend: Running) -> AsyncIterator[Gateway]:
    async with gateway(Settings(backend=f"127.0.0.1:{backend.port}")) as value:
        yield value


async def open_typed(browser: Any, url: str, protocol: str) -> tuple[Any, Any, list[str]]:
    ctx = await browser.new_context(viewport={"width": 1000, "height": 1100}, locale="zh-TW")
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(f"{url}/typed?protocol={protocol}")
    await page.wait_for_selector("body[data-ready=true]", state="attached", timeout=30_000)
    return ctx, page, problems


async def event_log(page: Any) -> list[dict[str, Any]]:
    return await page.eval_on_selector_all(
        "#events li", "items => items.map(i => ({seq: Number(i.dataset.seq), kind: i.dataset.kind}))"
    )


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_typed_page_streams_an_interpretation_to_its_end(browser, typed_gw, backend, protocol):
    ctx, page, problems = await open_typed(browser, typed_gw.url, protocol)
    try:
        assert await page.text_content("#protocol") == ("gRPC-Web" if protocol == "grpcweb" else "Connect")
        await page.select_option("#set", "mazu60")
        await page.click("#submit")
        await page.wait_for_selector(ENDED, state="attached", timeout=60_000)
        assert await page.get_attribute("body", "data-state") == "done"
        log = await event_log(page)
        assert [e["seq"] for e in log] == list(range(1, len(log) + 1)), "every event once, in order"
        assert log[0]["kind"] == "accepted" and log[-1]["kind"] == "result"
        assert {"poem", "passages", "textDelta"} <= {e["kind"] for e in log}
        assert await page.text_content("#percent") == "100%"
        text = await page.text_content("#text")
        assert text and "六十甲子籤" in (await page.text_content("#poem-title") or "")
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"typed-{protocol}.png"), full_page=True)
        # the text the page shows is the task's result, as the server keeps it
        task_id = await page.get_attribute("body", "data-task-id")
        async with AsyncClient(f"127.0.0.1:{backend.port}") as client:
            server_log = [e async for e in client.watch(task_id)]
        assert len(server_log) == len(log) and server_log[-1].result.text == text
        assert problems == []
    finally:
        await ctx.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_bad_request_shows_the_status_and_its_details(browser, typed_gw, protocol):
    ctx, page, problems = await open_typed(browser, typed_gw.url, protocol)
    try:
        await page.fill("#number", "0")
        # past the page's own maxlength (a browser would cut the text at 500): the server's check speaks
        await page.eval_on_selector("#question", "e => e.removeAttribute('maxlength')")
        await page.fill("#question", "問" * 501)
        await page.click("#submit")
        await page.wait_for_selector(ENDED, state="attached", timeout=30_000)
        assert await page.get_attribute("body", "data-state") == "error"
        assert await page.get_attribute("#error", "data-code") == "InvalidArgument"
        detail = await page.text_content("#error-detail") or ""
        assert "qianshi.v1/INVALID_ARGUMENT" in detail  # ErrorInfo
        assert (
            "number: must be at least 1" in detail and "question: must be at most 500 characters" in detail
        )  # BadRequest
        assert problems == []
    finally:
        await ctx.close()


@pytest.mark.browser
@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_cancel_aborts_the_fetch_and_the_task_on_the_server(browser, typed_gw, backend, protocol):
    """The page's cancel aborts its fetch (an AbortSignal); the gateway sees the browser go away and
    cancels the gRPC call, and the request's policy (CANCEL) ends the task on the server."""
    ctx, page, problems = await open_typed(browser, typed_gw.url, protocol)
    try:
        async with retrieval_held(backend):
            await page.click("#submit")
            await page.wait_for_selector("#events li", state="attached", timeout=30_000)
            task_id = await page.get_attribute("body", "data-task-id")
            async with AsyncClient(f"127.0.0.1:{backend.port}") as client:
                await page.click("#cancel")
                await page.wait_for_selector("body[data-state=cancelled]", state="attached", timeout=10_000)
                async with asyncio.timeout(10):
                    await backend.registry.wait_ended(task_id)
                log = [e async for e in client.watch(task_id)]
        assert log[-1].HasField("error") and log[-1].error.status.code == 1  # CANCELLED
        assert problems == []
    finally:
        await ctx.close()
