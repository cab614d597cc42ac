"""The web page in a real headless Chromium, against a real gateway and a real server.

The page measures itself (performance.now() in the browser) and exposes what it saw on
``window.qianshi``: every event with its seq and kind, the intervals between EventSource events,
the time from the click to the first visible progress, its reconnects and states. Screenshots and
those measurements are saved under artifacts/.
"""

from __future__ import annotations

import json
import re
import statistics
from typing import Any

import pytest
from qianshi.server.gateway.settings import Settings

from tests.gateway.conftest import ARTIFACTS, TICK_S
from tests.gateway.harness import CutStreams, gateway
from tests.service.conftest import retrieval_held

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.browser]

SLACK_S = 0.5
"""Scheduling slack on top of the tick interval: server, gateway and browser share two cores."""
ENDED = "body[data-state=done], body[data-state=error], body[data-state=cancelled]"
QUESTION_ZH = "我今年換工作會順利嗎？"
QUESTION_EN = "Will my new job go well this year?"


async def open_page(browser: Any, url: str, **context: Any) -> tuple[Any, Any, list[str]]:
    ctx = await browser.new_context(
        **{"viewport": {"width": 1100, "height": 900}, "locale": "zh-TW", **context}
    )
    page = await ctx.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(url + "/?lang=zh-Hant")
    await page.wait_for_selector("#set option", state="attached")
    return ctx, page, problems


async def ask(page: Any, number: int, question: str, set_id: str = "mazu60") -> None:
    await page.select_option("#set", set_id)
    await page.fill("#number", str(number))
    await page.fill("#question", question)
    await page.click("#submit")


async def measured(page: Any) -> dict[str, Any]:
    return await page.evaluate("window.qianshi")


def summary(values_ms: list[float]) -> dict[str, float]:
    ordered = sorted(values_ms)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"n": len(ordered), "p50": statistics.median(ordered), "p99": p99, "max": ordered[-1]}


async def result_of(http_url: str, task_id: str) -> dict[str, Any]:
    import httpx

    async with httpx.AsyncClient(base_url=http_url, timeout=30) as http:
        response = await http.get(f"/v1/tasks/{task_id}/events", params={"after": 0})
    frames = [line[len("data: ") :] for line in response.text.splitlines() if line.startswith("data: ")]
    return json.loads(frames[-1])


def plain(text: str) -> str:
    """Text as the page shows it: citations [n] become seals reading n; whitespace aside."""
    return re.sub(r"\s+", "", re.sub(r"\[(\d+)\]", r"\1", text))


async def check_finished_page(page: Any, gw_url: str, metrics: dict[str, Any]) -> dict[str, Any]:
    """What every finished page shows: each event once, the poem, 100 %, the text, what it cites."""
    seqs = [e["seq"] for e in metrics["events"]]
    assert seqs == list(range(1, len(seqs) + 1)), "every event exactly once, in order"
    assert metrics["terminal"] == "result"
    final = await result_of(gw_url, metrics["taskId"])
    assert int(final["seq"]) == seqs[-1]
    result = final["result"]
    assert await page.locator("#verse p").count() == 4
    assert await page.text_content("#percent") == "100%"
    assert plain(await page.inner_text("#text")) == plain(result["text"])
    cited = await page.eval_on_selector_all("#passages li.cited", "els => els.map(e => e.dataset.passageId)")
    assert cited and set(cited) == set(result["citedPassageIds"])
    return result


async def test_the_page_watches_an_interpretation_live(browser, backend):
    report: dict[str, Any] = {"tick_s": TICK_S, "slack_s": SLACK_S}
    ARTIFACTS.mkdir(exist_ok=True)
    async with gateway(Settings(backend=f"127.0.0.1:{backend.port}")) as gw:
        # a desktop in Traditional Chinese
        ctx, page, problems = await open_page(browser, gw.url)
        await ask(page, 23, QUESTION_ZH)
        await page.wait_for_selector(ENDED, state="attached", timeout=30_000)
        metrics = await measured(page)
        await check_finished_page(page, gw.url, metrics)
        kinds = {e["kind"] for e in metrics["events"]}
        assert {"accepted", "poem", "passages", "text_delta", "tick", "result"} <= kinds
        assert await page.text_content("#poem-title") == "黃（周）五娘遇春生"
        await page.screenshot(path=str(ARTIFACTS / "gateway-flow.png"), full_page=True, animations="disabled")
        await ctx.close()
        assert not problems

        # a phone in English
        phone = {"width": 390, "height": 844}
        ctx, page, problems = await open_page(
            browser, gw.url, viewport=phone, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        await page.click(".lang-btn[data-lang=en]")
        assert await page.text_content("h1") == "Temple Oracle"
        await ask(page, 41, QUESTION_EN, set_id="guanyin100")
        await page.wait_for_selector(ENDED, state="attached", timeout=30_000)
        phone_metrics = await measured(page)
        result = await check_finished_page(page, gw.url, phone_metrics)
        assert "You asked" in result["text"]
        await page.screenshot(
            path=str(ARTIFACTS / "gateway-flow-phone.png"), full_page=True, animations="disabled"
        )
        await ctx.close()
        assert not problems

    bound_ms = (TICK_S + SLACK_S) * 1000
    for name, m in (("desktop", metrics), ("phone", phone_metrics)):
        report[name] = {
            "events": len(m["events"]),
            "intervals_ms": summary(m["intervals"]),
            "click_to_first_progress_ms": m["clickToFirstProgressMs"],
        }
        assert m["clickToFirstProgressMs"] is not None and m["clickToFirstProgressMs"] > 0
        assert max(m["intervals"]) <= bound_ms, f"{name}: a gap of {max(m['intervals']):.0f} ms"
    (ARTIFACTS / "gateway-browser-metrics.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\nbrowser measurements:", json.dumps(report))


async def test_the_page_in_simplified_chinese_streams_a_simplified_reading(browser, backend):
    from qianshi.server.chinese import convert

    async with gateway(Settings(backend=f"127.0.0.1:{backend.port}")) as gw:
        ctx, page, problems = await open_page(browser, gw.url, locale="zh-CN")
        await page.click(".lang-btn[data-lang=zh-Hans]")
        assert await page.text_content("h1") == "签诗解读"
        await ask(page, 23, "我今年换工作会顺利吗？")
        await page.wait_for_selector(ENDED, state="attached", timeout=30_000)
        metrics = await measured(page)
        result = await check_finished_page(page, gw.url, metrics)
        first = metrics["events"][0]
        assert first["kind"] == "accepted"
        text = result["text"]
        assert text and convert(text, "zh-Hans") == text  # no Traditional-only character in the reading
        assert "签" in text and "籤" not in text
        import httpx

        async with httpx.AsyncClient(base_url=gw.url, timeout=30) as http:
            replay = await http.get(f"/v1/tasks/{metrics['taskId']}/events", params={"after": 0})
        messages = [
            json.loads(line[6:])["message"] for line in replay.text.splitlines() if line.startswith("data: ")
        ]
        assert messages and all(convert(m, "zh-Hans") == m for m in messages)
        await page.screenshot(
            path=str(ARTIFACTS / "gateway-flow-hans.png"), full_page=True, animations="disabled"
        )
        await ctx.close()
        assert not problems


async def test_the_page_recovers_from_a_dropped_connection_by_itself(browser, backend):
    cuts: list[CutStreams] = []

    def cutting(app: Any) -> CutStreams:
        cuts.append(CutStreams(app, after_frames=6))
        return cuts[0]

    settings = Settings(backend=f"127.0.0.1:{backend.port}", retry_ms=1000)
    ARTIFACTS.mkdir(exist_ok=True)
    async with gateway(settings, wrap=cutting) as gw:
        ctx, page, problems = await open_page(browser, gw.url, viewport={"width": 390, "height": 844})
        await ask(page, 23, QUESTION_ZH)
        await page.wait_for_selector("body[data-state=reconnecting]", state="attached", timeout=10_000)
        await page.screenshot(path=str(ARTIFACTS / "gateway-reconnecting.png"))
        await page.wait_for_selector(ENDED, state="attached", timeout=30_000)
        metrics = await measured(page)
        await check_finished_page(page, gw.url, metrics)
        await ctx.close()
    assert cuts[0].cuts == 1
    assert cuts[0].resumed == [f"{metrics['taskId']}:6"], "the browser came back with Last-Event-ID"
    assert metrics["reconnects"] >= 1
    assert metrics["states"][:3] == ["live", "reconnecting", "live"] and metrics["states"][-1] == "done"
    assert not problems


async def test_the_page_shows_errors_and_cancels(browser, backend):
    async with gateway(Settings(backend=f"127.0.0.1:{backend.port}", grace_s=1)) as gw:
        ctx, page, problems = await open_page(browser, gw.url)
        await ask(page, 99, QUESTION_ZH)  # mazu60 has 60 poems: 404 before the stream starts
        await page.wait_for_selector("body[data-state=error]", state="attached", timeout=10_000)
        assert await page.text_content("#error-title") == "查無此籤"

        await page.click("#submit")  # "ask again" opens the form
        async with retrieval_held(backend):
            await ask(page, 23, QUESTION_ZH)
            await page.wait_for_selector("#watch[data-task-id]", state="attached", timeout=10_000)
            await page.click("#cancel")
            await page.wait_for_selector("body[data-state=cancelled]", state="attached", timeout=10_000)
        assert await page.text_content("#error-title") == "已取消"
        metrics = await measured(page)
        seqs = [e["seq"] for e in metrics["events"]]
        assert seqs == list(range(1, len(seqs) + 1)) and metrics["events"][-1]["kind"] == "error"
        await ctx.close()
    assert not problems
