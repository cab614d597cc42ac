"""The shared event log's Redis keys, and the Lua scripts that change several of them atomically.

Keys, under a prefix (``qianshi`` by default); ``{…}`` is a Redis Cluster hash tag::

    P:{tag}:task:<id>:meta        hash: owner, request_id, replica (the replica that runs the task)
    P:{tag}:task:<id>:events      stream: entry 0-<seq> holds event <seq> (field ``e``)
    P:{tag}:request:<owner>:<rid> string "<task id> <owner>": the request id's claim (owner hashed)
    P:replica:{<rid>}             string: the replica's lease (PX; gone when not renewed in time)
    P:replica:{<rid>}:tasks       set: the tasks the replica runs now
    P:replicas                    set: replicas that may hold tasks (the sweepers' list)

A task's keys and the claim of its request id share one tag (``ids``), so they lie in one hash slot;
a replica's lease and task list share another. Every script below touches the keys of one slot only,
so the same scripts run on one Redis and on a Redis Cluster (where a script touching two slots fails
with CROSSSLOT). What spans slots — listing a task on its replica, forgetting a replica — is a
separate command, ordered so that a crash in between leaves nothing a sweep or a reader cannot end.

Redis runs a script as one command, so each is atomic: two replicas that create tasks for the same
request id at once get one task (``CREATE``); two replicas that notice the same lost task at once
append one terminal event (``LOST``: it writes only if the stream still ends where the caller saw it
end); ``APPEND`` (Redis Cluster) adds event ``seq`` only right after ``seq - 1``, so a stream that
lost its tail in a failover is noticed and mended instead of getting a gap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from qianshi.server.tasks.ids import request_tag, tag_of


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one prefix."""

    prefix: str

    def task_prefix(self, tag: str) -> str:
        """What the keys of a task with ``tag`` start with (``CREATE`` builds a meta key alike)."""
        return f"{self.prefix}:{{{tag}}}:task:"

    def meta(self, task_id: str) -> str:
        return f"{self.task_prefix(tag_of(task_id))}{task_id}:meta"

    def events(self, task_id: str) -> str:
        return f"{self.task_prefix(tag_of(task_id))}{task_id}:events"

    def claim(self, owner: str, request_id: str) -> str:
        """The claim of ``owner``'s ``request_id`` (a caller's request ids are its own)."""
        if not request_id:
            return self.no_claim
        digest = hashlib.sha256(owner.encode()).hexdigest()[:24]
        return f"{self.prefix}:{{{request_tag(owner, request_id)}}}:request:{digest}:{request_id}"

    @property
    def no_claim(self) -> str:
        """Stands in for the claim of a task without a request id (never set)."""
        return f"{self.prefix}:request:-"

    def claim_of(self, task_id: str, owner: str, request_id: str) -> str:
        """The claim key a script of ``task_id`` may touch: its own claim, or a key of its slot."""
        return self.claim(owner, request_id) if request_id else self.meta(task_id) + ":no-claim"

    def lease(self, replica: str) -> str:
        return f"{self.prefix}:replica:{{{replica}}}"

    def replica_tasks(self, replica: str) -> str:
        return f"{self.prefix}:replica:{{{replica}}}:tasks"

    @property
    def replicas(self) -> str:
        return f"{self.prefix}:replicas"

    @property
    def cancel_channel(self) -> str:
        return f"{self.prefix}:cancel"


def claim_value(task_id: str, owner: str) -> str:
    return f"{task_id} {owner}"


def parse_claim(value: bytes | str | None, owner: str) -> str | None:
    """The task id in a claim's value, when the claim is ``owner``'s."""
    if value is None:
        return None
    text = value.decode() if isinstance(value, bytes) else value
    task_id, _, holder = text.partition(" ")
    return task_id if task_id and holder == owner else None


# Owned by this task? A claim's value starts with "<task id> ".
_OWNS = (
    "local function owns(value, task) return value and string.sub(value, 1, #task + 1) == task .. ' ' end\n"
)

CREATE = """
-- KEYS: meta, claim (one slot)
-- ARGV: task id, owner, request id, replica, ttl s, claim value, key prefix
if ARGV[3] ~= '' then
  if not redis.call('SET', KEYS[2], ARGV[6], 'NX', 'EX', ARGV[5]) then
    local held = redis.call('GET', KEYS[2])
    local task = string.match(held, '^(%S+) ')
    local tag = task
    if task and #task == 24 and string.sub(task, 1, 2) == 't_' then tag = string.sub(task, 3, 6) end
    local meta = ARGV[7] .. ':{' .. (tag or '') .. '}:task:' .. (task or '') .. ':meta'
    if task and redis.call('EXISTS', meta) == 1 then return held end
    redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[5])  -- its task is gone: the claim is stale
  end
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'request_id', ARGV[3], 'replica', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return false
"""
"""Claim the request id and create the task's meta, or return the value of the claim that exists
(a claim whose task's meta is gone — evicted, say — is stale and taken over). The claimed task has
the claim's tag (``ids``; the key is built as ``Keys.meta`` does), so its meta lies in this slot."""

EXPIRE = (
    _OWNS
    + """
-- KEYS: meta, events, claim (one slot)
-- ARGV: task id, ttl ms, release ('1': give the request id back)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local held = redis.call('GET', KEYS[3])
if owns(held, ARGV[1]) then
  if ARGV[3] == '1' then redis.call('DEL', KEYS[3]) else redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
end
return 1
"""
)
"""An ended task: retention for its keys (and its claim, unless released)."""

LOST = (
    _OWNS
    + """
-- KEYS: events, meta, claim (one slot)
-- ARGV: stream's last id as seen ('' when empty), new id, event, task id, retention ms
if redis.call('EXISTS', KEYS[2]) == 0 then return 3 end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last_id = ''
if #last > 0 then last_id = last[1][1] end
if last_id ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[1], ARGV[2], 'e', ARGV[3])
if owns(redis.call('GET', KEYS[3]), ARGV[4]) then redis.call('DEL', KEYS[3]) end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
"""
)
"""End a lost task: 1 written; 0 the stream moved on (read again); 3 its log is gone. The caller
checks the runner's lease first (another slot); a runner that renews it meanwhile finds its next
write refused, as when it was only slow."""

BURY = """
-- KEYS: replica tasks, lease (one slot)
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('SCARD', KEYS[1]) > 0 then return 0 end
return 1
"""
"""May a lost replica be forgotten (no task of it left, and it has not come back)? The caller then
takes it off the replicas' list (another slot; a replica that comes back lists itself again)."""

APPEND = """
-- KEYS: events
-- ARGV: seq, event, ttl s of a new stream
local seq = tonumber(ARGV[1])
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local have = 0
if #last > 0 then have = tonumber(string.match(last[1][1], '^0%-(%d+)$')) or -1 end
if have == seq then
  if last[1][2][2] == ARGV[2] then return 1 end
  return -1
end
if have > seq or have < 0 then return -1 end
if have < seq - 1 then
  if have == 0 then return 0 end
  return {have}
end
redis.call('XADD', KEYS[1], '0-' .. seq, 'e', ARGV[2])
if seq == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return 1
"""
"""Append event ``seq`` right after ``seq - 1``: 1 stored (or already stored, the same bytes: a
retried write); -1 the id is taken (the log is fenced); 0 the stream is gone; ``{have}`` the stream
ends at ``have`` < ``seq - 1`` (a failover lost its tail: the writer mends it from its mirror)."""

LOST_WRITTEN, LOST_MOVED_ON, LOST_GONE = 1, 0, 3
APPENDED, APPEND_TAKEN, APPEND_GONE = 1, -1, 0
APPEND_SHA = hashlib.sha1(APPEND.encode()).hexdigest()
