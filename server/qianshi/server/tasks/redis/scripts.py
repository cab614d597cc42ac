"""The shared event log's Redis keys, and the Lua scripts that change several of them atomically.

Keys, under a prefix (``qianshi`` by default)::

    P:task:<id>:meta            hash: owner, request_id, replica (the replica that runs the task)
    P:task:<id>:events          stream: entry 0-<seq> holds event <seq> (field ``e``)
    P:request:<owner>:<rid>     string "<task id> <owner>": the request id's claim (owner hashed)
    P:replica:<rid>             string: the replica's lease (PX; gone when not renewed in time)
    P:replica:<rid>:tasks       set: the tasks the replica runs now
    P:replicas                  set: replicas that may hold tasks (the sweepers' list)

Redis runs a script as one command, so each script below is atomic: two replicas that create tasks
for the same request id at once get one task (``CREATE``); two replicas that notice the same lost
task at once append one terminal event (``LOST``: it writes only if the stream still ends where the
caller saw it end, and only while the runner's lease is absent). Scripts touch keys of different
tasks, so the log needs one Redis (or a primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one prefix."""

    prefix: str

    def meta(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}:meta"

    def events(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}:events"

    def claim(self, owner: str, request_id: str) -> str:
        """The claim of ``owner``'s ``request_id`` (a caller's request ids are its own)."""
        if not request_id:
            return self.no_claim
        digest = hashlib.sha256(owner.encode()).hexdigest()[:24]
        return f"{self.prefix}:request:{digest}:{request_id}"

    @property
    def no_claim(self) -> str:
        """Stands in for the claim of a task without a request id (never set)."""
        return f"{self.prefix}:request:-"

    def lease(self, replica: str) -> str:
        return f"{self.prefix}:replica:{replica}"

    def replica_tasks(self, replica: str) -> str:
        return f"{self.prefix}:replica:{replica}:tasks"

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
-- KEYS: meta, claim, replica tasks, replicas, lease
-- ARGV: task id, owner, request id, replica, ttl s, claim value, lease ms, key prefix
if ARGV[3] ~= '' then
  if not redis.call('SET', KEYS[2], ARGV[6], 'NX', 'EX', ARGV[5]) then
    local held = redis.call('GET', KEYS[2])
    local task = string.match(held, '^(%S+) ')
    if task and redis.call('EXISTS', ARGV[8] .. ':task:' .. task .. ':meta') == 1 then return held end
    redis.call('SET', KEYS[2], ARGV[6], 'EX', ARGV[5])  -- its task is gone: the claim is stale
  end
end
redis.call('HSET', KEYS[1], 'owner', ARGV[2], 'request_id', ARGV[3], 'replica', ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[5])
redis.call('SADD', KEYS[4], ARGV[4])
redis.call('SET', KEYS[5], '1', 'PX', ARGV[7], 'NX')
return false
"""
"""Claim the request id and create the task's meta, or return the value of the claim that exists
(a claim whose task's meta is gone — evicted, say — is stale and taken over)."""

EXPIRE = (
    _OWNS
    + """
-- KEYS: meta, events, claim, replica tasks
-- ARGV: task id, ttl ms, release ('1': give the request id back)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
local held = redis.call('GET', KEYS[3])
if owns(held, ARGV[1]) then
  if ARGV[3] == '1' then redis.call('DEL', KEYS[3]) else redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
end
redis.call('SREM', KEYS[4], ARGV[1])
return 1
"""
)
"""An ended task: retention for its keys (and its claim, unless released), off its replica's list."""

LOST = (
    _OWNS
    + """
-- KEYS: events, meta, claim, replica tasks, lease
-- ARGV: stream's last id as seen ('' when empty), new id, event, task id, retention ms, check lease
if ARGV[6] == '1' and redis.call('EXISTS', KEYS[5]) == 1 then return 2 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SREM', KEYS[4], ARGV[4])
  return 3
end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local last_id = ''
if #last > 0 then last_id = last[1][1] end
if last_id ~= ARGV[1] then return 0 end
redis.call('XADD', KEYS[1], ARGV[2], 'e', ARGV[3])
if owns(redis.call('GET', KEYS[3]), ARGV[4]) then redis.call('DEL', KEYS[3]) end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('SREM', KEYS[4], ARGV[4])
return 1
"""
)
"""End a lost task: 1 written; 0 the stream moved on (read again); 2 its replica is alive; 3 gone."""

BURY = """
-- KEYS: replicas, replica tasks, lease
-- ARGV: replica
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('SCARD', KEYS[2]) > 0 then return 0 end
redis.call('SREM', KEYS[1], ARGV[1])
return 1
"""
"""Forget a lost replica once none of its tasks is left (and it has not come back)."""

LOST_WRITTEN, LOST_MOVED_ON, LOST_ALIVE, LOST_GONE = 1, 0, 2, 3
