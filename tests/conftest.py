"""Fixtures every test package shares.

``built_state`` is defined once here, at the root, so that the whole session builds the shipped
index once (a fixture re-exported from several packages' conftests is a separate fixture in each,
and each would build its own).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.service.conftest import running


@pytest.fixture(scope="session")
def built_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state folder whose index is built (by a server that starts once and stops)."""
    state = tmp_path_factory.mktemp("state")

    async def build() -> None:
        async with running(["--state-dir", str(state)]):
            pass

    asyncio.run(build())
    return state
