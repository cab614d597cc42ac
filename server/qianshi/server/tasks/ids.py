"""Task ids, and the tag inside each one that keeps a task's keys in one Redis Cluster hash slot.

A task id is ``t_`` and 22 URL-safe characters (the form the contract validates). The first four
of them are the task's *tag*; the shared log puts every key of the task under the hash tag
``{<tag>}``, so one Lua script may change them together on a Redis Cluster. For a task started with
a request id the tag is derived from the caller and the request id: the claim of that request id —
looked up before any task id exists — then lies in the same slot as the task's keys, and one script
claims the id and creates the task atomically, as on a single Redis. Otherwise the tag is random.
The other 18 characters are random (108 bits): a task id stays unguessable.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

TAG_LEN = 4


def request_tag(owner: str, request_id: str) -> str:
    """The tag of every task started by ``owner`` with ``request_id`` (and of its claim)."""
    digest = hashlib.sha256(f"{owner}\n{request_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TAG_LEN]


def new_task_id(owner: str = "", request_id: str = "") -> str:
    """A new task id: its tag from the request id when there is one, random otherwise."""
    tag = request_tag(owner, request_id) if request_id else secrets.token_urlsafe(3)[:TAG_LEN]
    return "t_" + tag + secrets.token_urlsafe(14)[: 22 - TAG_LEN]


def tag_of(task_id: str) -> str:
    """The tag of a task id (an id of another form — tests, older servers — is its own tag)."""
    if task_id.startswith("t_") and len(task_id) == 24:
        return task_id[2 : 2 + TAG_LEN]
    return task_id
