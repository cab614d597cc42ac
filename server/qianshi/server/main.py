"""``qianshi-server``: parse the options, then run one server process (``serving.serve``) or, with
``--workers N``, the supervisor of N of them (``workers``). The composition roots import one way:
``main`` → ``workers`` → ``serving`` → ``wiring``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from qianshi.server import config
from qianshi.server.errors import QianshiError
from qianshi.server.serving import Running, configure_logging, serve

__all__ = ["Running", "main", "serve"]  # ``serve`` and ``Running`` live in ``serving``; named here too

log = logging.getLogger("qianshi.server")


def main(argv: Sequence[str] | None = None) -> None:
    args = config.parse(argv)
    configure_logging(args)
    if args.workers != 1:
        from qianshi.server import workers

        workers.main(args)  # N processes of ``serve`` on one port, under a supervisor
        return
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    except QianshiError as exc:  # a backend that cannot start (Qdrant unreachable …): say so, exit
        log.error("cannot start: %s (%s)", exc.message, exc.reason)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
