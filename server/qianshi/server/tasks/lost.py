"""The terminal event of a task that nobody will finish: its replica was lost, or it went silent.

Written by another replica into the shared log (``redis.log.RedisEventLog.declare_lost``), it ends
every reader's stream cleanly — UNAVAILABLE, with the reason and the text generated so far — instead
of leaving them following a task that will never end. Both reasons are in ``RESTART_REASONS``: the
request id is released with the task, so a retry with the same request id starts it again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from qianshi.server.domain import Stage
from qianshi.server.errors import ErrorCode
from qianshi.server.pipeline.events import Accepted, Event, Failure, TextDelta
from qianshi.server.pipeline.messages import message

REPLICA_LOST = "REPLICA_LOST"
"""The replica running the task stopped renewing its lease (it died, or lost Redis)."""
TASK_LOST = "TASK_LOST"
"""The task's replica is alive but the task wrote nothing for far longer than a tick."""

_WHY = {
    REPLICA_LOST: "the server running this task was lost; send the request again (same request id)",
    TASK_LOST: "the server running this task stopped reporting; send the request again (same request id)",
}


def lost_event(task_id: str, events: Sequence[Event], reason: str, now: float | None = None) -> Event:
    """The event that ends a task whose stored events are ``events`` (in seq order) as lost."""
    now = time.time() if now is None else now
    last = events[-1] if events else None
    first = events[0] if events else None
    locale = first.payload.locale if first is not None and isinstance(first.payload, Accepted) else "zh-Hant"
    text = "".join(e.payload.text for e in events if isinstance(e.payload, TextDelta))
    why = _WHY[reason]
    return Event(
        task_id=task_id,
        seq=last.seq + 1 if last is not None else 1,
        stage=Stage.DONE,
        percent=last.percent if last is not None else 0.0,
        message=message(locale, "failed", reason=why),
        elapsed_s=last.elapsed_s + max(now - last.timestamp, 0.0) if last is not None else 0.0,
        eta_s=None,
        timestamp=now,
        payload=Failure(ErrorCode.UNAVAILABLE, why, reason, partial_text=text, retry_after_s=0.0),
    )
