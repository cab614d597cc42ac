"""Whether the tests run under CI, where a missing real part (vLLM, Chromium, redis-server, buf) must
fail the run instead of skipping: ``CI`` set to anything but an empty or false value ("0", "false",
"no", "off"), so ``CI=false`` on a developer's shell does not count. ``.ci/run`` sets ``CI=true``."""

from __future__ import annotations

import os


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")
