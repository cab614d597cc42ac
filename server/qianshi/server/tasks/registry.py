"""The task registry: starts tasks, finds them again, applies the disconnect policy, drains.

Every task runs in the registry's task group (its owner for the server's lifetime), so a task outlives
the call that started it only as long as its disconnect policy allows: when its last reader goes away
before the end, a task under the cancel policy is cancelled at once, and one under the keep-running
policy gets a grace window for someone to re-attach. Ended tasks stay in the event log for the
retention window, where ``Watch`` and ``request_id`` retries find them. The request-id claims live in
the event log (atomic in Redis when the log is shared), not here, so one request id names one task
across every replica that shares the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from qianshi.server.errors import BackendUnavailable, NotFound, ResourceExhausted
from qianshi.server.pipeline.eventlog import EventLog, TaskMeta
from qianshi.server.pipeline.events import Event
from qianshi.server.pipeline.failures import DRAINING
from qianshi.server.pipeline.interpret import Interpreter
from qianshi.server.pipeline.requests import TaskSpec
from qianshi.server.tasks.ids import new_task_id

log = logging.getLogger(__name__)


@dataclass(eq=False, slots=True)
class _Live:
    meta: TaskMeta
    spec: TaskSpec
    runner: asyncio.Task[None] | None = None
    readers: int = 0
    grace: asyncio.TimerHandle | None = None
    detached_grace_s: float | None = None
    """Set by ``keep_alive``: when its readers are gone, the task gets this grace whatever its policy."""
    ended: bool = False
    """True once the task's body has finished (waiters wait on ``runner`` itself)."""


class Registry:
    """The tasks of this server. Use as ``async with Registry(...) as registry``."""

    def __init__(
        self,
        interpreter: Interpreter,
        events: EventLog,
        *,
        max_active: int = 2000,
        retention_s: float = 300.0,
        remote_cancel: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.interpreter = interpreter
        self.events = events
        self.max_active = max_active
        self.retention_s = retention_s
        self.remote_cancel = remote_cancel
        """Asks the other replicas to cancel a task this one does not run (a shared event log's hook)."""
        self._live: dict[str, _Live] = {}
        self._group: asyncio.TaskGroup | None = None
        self._pacer: asyncio.Task[None] | None = None
        self.accepting = True

    async def __aenter__(self) -> Registry:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        self._pacer = self._group.create_task(self.interpreter.pacer.run(), name="pacer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        runners = [live.runner for live in self._live.values() if live.runner is not None]
        for runner in runners:
            runner.cancel()
        assert self._group is not None
        if runners:  # they report their end; the pacer outlives them
            await asyncio.wait(runners)
        if self._pacer is not None:
            self._pacer.cancel()
        await self._group.__aexit__(None, None, None)

    @property
    def active(self) -> int:
        return len(self._live)

    # starting and finding tasks -------------------------------------------------------------------

    async def start(self, spec: TaskSpec, owner: str, deadline: float | None) -> str:
        """Start a task for ``spec`` — or, when the caller's ``request_id`` already names a task the
        event log knows (started here or, with a shared log, on any replica), return that task's id.

        The claim is taken with the log's ``create``, atomically, so concurrent retries on several
        replicas start one task. A retry that meets a full or draining server still re-attaches.
        """
        assert self._group is not None, "use the registry as an async context manager"
        task_id = new_task_id(owner, spec.request_id)
        try:
            self._check_capacity()
            self.interpreter.admit(task_id)  # a full generation queue refuses the call here, before any work
        except (BackendUnavailable, ResourceExhausted):
            held = await self.events.claimed(owner, spec.request_id) if spec.request_id else None
            if held is not None:
                return held
            raise
        meta = TaskMeta(task_id, owner, spec.request_id)
        try:
            held = await self.events.create(meta)
        except BaseException:
            self.interpreter.release(task_id)
            raise
        if held != task_id:  # a retry: the request id names an earlier task
            self.interpreter.release(task_id)
            return held
        live = _Live(meta, spec)
        self._live[task_id] = live
        live.runner = self._group.create_task(self._run(live, deadline), name=f"task {task_id}")
        live.runner.add_done_callback(functools.partial(self._released, task_id))  # also if never started
        return task_id

    def _released(self, task_id: str, _runner: object) -> None:
        self.interpreter.release(task_id)

    def _check_capacity(self) -> None:
        if not self.accepting:
            raise BackendUnavailable(
                "the server is shutting down", reason="SERVER_DRAINING", retry_after_s=1.0
            )
        if len(self._live) >= self.max_active:
            raise ResourceExhausted(
                f"the server is running its maximum of {self.max_active} tasks", retry_after_s=1.0
            )

    async def _run(self, live: _Live, deadline: float | None) -> None:
        task_id = live.meta.task_id
        try:
            await self.interpreter.run(task_id, live.spec, self.events, deadline)
        except asyncio.CancelledError:
            pass  # reported in the task's log by the interpreter; the group must not fail
        except Exception:  # the log itself failed (a shared log unreachable): it cannot be reported there
            log.exception("task ended without its terminal event", extra={"task_id": task_id})
        finally:
            if live.grace is not None:
                live.grace.cancel()
            self._live.pop(task_id, None)
            live.ended = True
            with contextlib.suppress(Exception):
                await self.events.expire(task_id, self.retention_s)

    async def find(self, task_id: str, owner: str) -> TaskMeta:
        """The task's metadata; NotFound when unknown, expired, or started by another caller."""
        meta = await self.events.meta(task_id)
        # A task of another caller is reported as unknown: ids are not an oracle for existence.
        if meta is None or (meta.owner and meta.owner != owner):
            raise NotFound(f"task {task_id} is unknown or has expired", reason="TASK_NOT_FOUND")
        return meta

    # reading ---------------------------------------------------------------------------------------

    def subscribe(self, task_id: str, owner: str, after_seq: int = 0) -> Subscription:
        """Read a task's events after ``after_seq`` (``async with registry.subscribe(…) as events``);
        leaving applies the task's disconnect policy."""
        return Subscription(self, task_id, owner, after_seq)

    def _reading(self, task_id: str) -> _Live | None:
        live = self._live.get(task_id)
        if live is not None:
            live.readers += 1
            if live.grace is not None:
                live.grace.cancel()
                live.grace = None
        return live

    def _left(self, live: _Live | None) -> None:
        if live is not None:
            live.readers -= 1
            if live.readers == 0 and not live.ended:
                self._orphaned(live)

    def _orphaned(self, live: _Live) -> None:
        runner = live.runner
        if runner is None:
            return
        grace = live.spec.grace_s if live.spec.keep_running else 0.0
        if live.detached_grace_s is not None:
            grace = max(grace, live.detached_grace_s)
        if grace > 0:
            live.grace = asyncio.get_running_loop().call_later(grace, runner.cancel)
        else:
            runner.cancel()

    def keep_alive(self, task_id: str, grace_s: float) -> None:
        """Let a live task outlive its readers for ``grace_s`` whatever its disconnect policy (the
        transport detaches a reader that was too slow; the task stays watchable meanwhile)."""
        live = self._live.get(task_id)
        if live is not None:
            live.detached_grace_s = grace_s

    async def cancel(self, task_id: str, owner: str) -> bool:
        """Cancel a live task; False when it had already ended."""
        await self.find(task_id, owner)
        if task_id not in self._live and self.remote_cancel is not None:
            return await self.remote_cancel(task_id)
        return self.cancel_local(task_id)

    def cancel_local(self, task_id: str) -> bool:
        """Cancel a task if this replica runs it (no owner check: the caller made it)."""
        live = self._live.get(task_id)
        if live is None or live.runner is None or live.ended:
            return False
        live.runner.cancel()
        return True

    async def wait_ended(self, task_id: str) -> None:
        """Wait until a live task of this server has ended (returns at once for others)."""
        live = self._live.get(task_id)
        if live is not None and live.runner is not None:
            await asyncio.wait((live.runner,))

    # shutting down ---------------------------------------------------------------------------------

    async def drain(self, grace_s: float) -> None:
        """Refuse new tasks, give running ones ``grace_s`` to finish, then end the rest with
        UNAVAILABLE (SERVER_DRAINING) so their callers resume elsewhere."""
        self.accepting = False
        deadline = time.monotonic() + grace_s
        pending = [live.runner for live in self._live.values() if live.runner is not None]
        if pending:
            await asyncio.wait(pending, timeout=max(deadline - time.monotonic(), 0.0))
        remaining = [live.runner for live in self._live.values() if live.runner is not None]
        for runner in remaining:
            runner.cancel(DRAINING)
        if remaining:
            await asyncio.wait(remaining)


class Subscription:
    """``async with registry.subscribe(task_id, owner, after_seq) as events``: the task's events, and
    its disconnect policy applied when the reader leaves. A plain class rather than an async
    generator context manager: an open stream holds one for its whole life (bench/README.md, memory
    per open stream)."""

    __slots__ = ("_after", "_follow", "_live", "_owner", "_registry", "_task_id")

    def __init__(self, registry: Registry, task_id: str, owner: str, after_seq: int) -> None:
        self._registry = registry
        self._task_id = task_id
        self._owner = owner
        self._after = after_seq
        self._live: _Live | None = None
        self._follow: AsyncIterator[Event] | None = None

    async def __aenter__(self) -> AsyncIterator[Event]:
        registry = self._registry
        await registry.find(self._task_id, self._owner)
        self._live = registry._reading(self._task_id)
        self._follow = registry.events.follow(self._task_id, self._after)
        return self._follow

    async def __aexit__(self, *exc: object) -> None:
        try:
            closer = getattr(self._follow, "aclose", None)
            if closer is not None:
                await closer()
        finally:
            self._registry._left(self._live)
