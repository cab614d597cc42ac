"""The ``qianshi`` command: interpret a poem, watch or cancel a task, list sets, show a poem.

Exit codes: 0 success; 1 the task ended with an error event, or a call failed (the status code
name, message and bad fields go to stderr); 2 usage errors; 130 interrupted (Ctrl-C cancels the
call, and with it the task); 141 stdout closed early (``| head``), quietly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncGenerator, Sequence

import grpc
from qianshi.client import errors
from qianshi.client.aio import AsyncClient
from qianshi.client.connection import DEFAULT_TARGET
from qianshi.client.events import event_to_json, is_terminal
from qianshi.client.render import Renderer, format_error, format_poem, format_sets
from qianshi.client.screen import Screen
from qianshi.v1 import events_pb2

__all__ = ["build_parser", "main"]

PROG = "qianshi"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141
_REFRESH_S = 0.2  # how often the live status line's clock moves on between events

_EPILOG = """\
examples:
  qianshi interpret --set mazu60 --number 23 --question "這次換工作順利嗎？"
  qianshi interpret --random --question "will this job change go well?" --locale en --json
  qianshi watch TASK_ID --after 12
  qianshi sets
  qianshi poem mazu60 23

exit codes: 0 success, 1 error event or failed call, 2 usage error, 130 interrupted
"""


def _poem_number(text: str) -> int | str:
    if text == "random":
        return text
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a poem number or 'random', got {text!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError("poem numbers start at 1")
    return number


def _add_connection_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The options of every command; repeated on each subcommand (defaults suppressed there, so
    that ``qianshi --target X sets`` and ``qianshi sets --target X`` both work)."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    group = parser.add_argument_group("connection")
    group.add_argument(
        "--target",
        default=default(os.environ.get("QIANSHI_TARGET") or DEFAULT_TARGET),
        help=(
            "server address host:port, or several separated by commas (replicas: a call moves on when"
            f" one is down) (default: $QIANSHI_TARGET or {DEFAULT_TARGET})"
        ),
    )
    group.add_argument(
        "--token",
        default=default(os.environ.get("QIANSHI_TOKEN") or None),
        help="bearer token sent as 'authorization: Bearer <token>' (default: $QIANSHI_TOKEN)",
    )
    group.add_argument("--tls", action="store_true", default=default(False), help="connect with TLS")
    group.add_argument(
        "--ca-cert", default=default(None), metavar="PEM", help="CA certificate to trust (implies --tls)"
    )
    group.add_argument(
        "--client-cert", default=default(None), metavar="PEM", help="client certificate for mutual TLS"
    )
    group.add_argument(
        "--client-key", default=default(None), metavar="PEM", help="client private key for mutual TLS"
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=default(None),
        metavar="SECONDS",
        help="deadline of each call, for a stream the whole stream (default: none)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``qianshi`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Interpret temple fortune poems (籤詩) with a Qianshi server, live.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_connection_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    interpret = commands.add_parser(
        "interpret", help="draw or pick a poem, ask a question, watch the interpretation stream"
    )
    interpret.add_argument(
        "--set", default="mazu60", help="poem set id, see 'qianshi sets' (default: mazu60)"
    )
    interpret.add_argument(
        "--number", type=_poem_number, metavar="N", help="poem number within the set, or 'random' to draw one"
    )
    interpret.add_argument("--random", action="store_true", help="draw the poem number at random")
    interpret.add_argument(
        "--question",
        default="",
        help="the question asked, up to 500 characters (default: none, the slip's general reading)",
    )
    interpret.add_argument(
        "--category", default="", help="category of the question, e.g. 婚姻 or marriage (default: inferred)"
    )
    interpret.add_argument(
        "--locale",
        choices=["zh-Hant", "zh-Hans", "en"],
        default="",
        help="language of messages and text (default: zh-Hant)",
    )
    interpret.add_argument(
        "--max-tokens", type=int, default=0, metavar="N", help="most tokens to generate (default: server's)"
    )
    interpret.add_argument(
        "--temperature", type=float, metavar="T", help="sampling temperature, 0 to 2 (default: server's)"
    )
    interpret.add_argument("--seed", type=int, metavar="S", help="sampling seed, for reproducible text")
    interpret.add_argument(
        "--request-id", metavar="ID", help="idempotency id; the same id re-attaches to the same task"
    )
    interpret.add_argument(
        "--json", action="store_true", help="print each event as one JSON object per line, nothing else"
    )
    _add_connection_options(interpret, suppress=True)

    watch = commands.add_parser("watch", help="re-attach to a task and follow it to the end")
    watch.add_argument("task_id", metavar="TASK_ID", help="id of the task, as printed in its events")
    watch.add_argument(
        "--after", type=int, default=0, metavar="N", help="replay only the events after seq N (default: 0)"
    )
    watch.add_argument("--json", action="store_true", help="print each event as one JSON object per line")
    _add_connection_options(watch, suppress=True)

    cancel = commands.add_parser("cancel", help="stop a task")
    cancel.add_argument("task_id", metavar="TASK_ID", help="id of the task to stop")
    _add_connection_options(cancel, suppress=True)

    sets = commands.add_parser("sets", help="list the poem sets the server knows")
    sets.add_argument("--json", action="store_true", help="print each set as one JSON object per line")
    _add_connection_options(sets, suppress=True)

    poem = commands.add_parser("poem", help="show one poem with its traditional judgments")
    poem.add_argument("set_id", metavar="SET", help="poem set id, for example mazu60")
    poem.add_argument("number", metavar="N", type=_poem_number, help="poem number, or 'random'")
    poem.add_argument("--json", action="store_true", help="print the poem as one JSON object")
    _add_connection_options(poem, suppress=True)
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors argparse cannot see by itself; exits with status 2."""
    if args.command == "interpret":
        if args.random and args.number not in (None, "random"):
            parser.error("--random and --number N exclude each other")
        if args.number is None and not args.random:
            parser.error("interpret needs --number N, --number random or --random")
    if args.timeout is not None and args.timeout <= 0:
        parser.error("--timeout must be positive")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check(parser, args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE


async def _run(args: argparse.Namespace) -> int:
    try:
        client = AsyncClient(
            args.target,
            token=args.token,
            tls=args.tls,
            root_certificates=args.ca_cert,
            client_cert=args.client_cert,
            client_key=args.client_key,
        )
    except (OSError, ValueError) as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    try:
        async with client:
            return await _COMMANDS[args.command](client, args)
    except errors.QianshiClientError as exc:
        sys.stderr.write(format_error(exc, prog=PROG))
        return EXIT_FAILED


async def _interpret(client: AsyncClient, args: argparse.Namespace) -> int:
    number = args.number
    if number is None or number == "random":
        number = await _draw(client, args.set, args.timeout)
    stream = client.interpret(
        args.set,
        number,
        args.question,
        category=args.category,
        locale=args.locale,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        seed=args.seed,
        request_id=args.request_id,
        timeout=args.timeout,
    )
    return await _show(stream, as_json=args.json)


async def _watch(client: AsyncClient, args: argparse.Namespace) -> int:
    return await _show(client.watch(args.task_id, args.after, timeout=args.timeout), as_json=args.json)


async def _cancel(client: AsyncClient, args: argparse.Namespace) -> int:
    if await client.cancel(args.task_id, timeout=args.timeout):
        print(f"cancelled {args.task_id}")
    else:
        print(f"{args.task_id} had already ended")
    return EXIT_OK


async def _sets(client: AsyncClient, args: argparse.Namespace) -> int:
    sets = await client.list_sets(timeout=args.timeout)
    if args.json:
        sys.stdout.write("".join(event_to_json(s) + "\n" for s in sets))
    else:
        width = Screen(sys.stdout, sys.stdout).columns() if sys.stdout.isatty() else None
        sys.stdout.write(format_sets(sets, width=width))
    return EXIT_OK


async def _poem(client: AsyncClient, args: argparse.Namespace) -> int:
    number = args.number
    if number == "random":
        number = await _draw(client, args.set_id, args.timeout)
    poem = await client.get_poem(args.set_id, number, timeout=args.timeout)
    if args.json:
        sys.stdout.write(event_to_json(poem) + "\n")
    else:
        sys.stdout.write(format_poem(poem, judgments=True, color=sys.stdout.isatty() and _color()))
    return EXIT_OK


_COMMANDS = {"interpret": _interpret, "watch": _watch, "cancel": _cancel, "sets": _sets, "poem": _poem}


async def _draw(client: AsyncClient, set_id: str, deadline_s: float | None) -> int:
    """Draw a poem number of ``set_id`` at random, after asking the server for the set's count."""
    for poem_set in await client.list_sets(timeout=deadline_s):
        if set_id == poem_set.id or set_id in poem_set.aliases:
            number = secrets.randbelow(poem_set.count) + 1
            _say(f"drew poem {number} of {poem_set.count} from {poem_set.id}")
            return number
    raise errors.NotFound(grpc.StatusCode.NOT_FOUND, f"unknown poem set {set_id!r}; see 'qianshi sets'")


async def _show(stream: AsyncGenerator[events_pb2.ProgressEvent, None], *, as_json: bool) -> int:
    """Show a stream of events to its end; the exit status follows its terminal event."""
    terminal: events_pb2.ProgressEvent | None = None
    if as_json:
        async with contextlib.aclosing(stream):
            async for event in stream:
                sys.stdout.write(event_to_json(event) + "\n")
                sys.stdout.flush()
                terminal = event if is_terminal(event) else terminal
    else:
        renderer = Renderer(Screen(sys.stdout, sys.stderr))
        if not _color():
            renderer.color = False
        ticker = _Ticker(renderer) if renderer.screen.live else None
        try:
            async with contextlib.aclosing(stream):
                async for event in stream:
                    renderer.handle(event)
        finally:
            if ticker is not None:
                ticker.stop()
            renderer.close()
        terminal = renderer.terminal
    if terminal is None:
        _say("error: the stream ended without a result or an error")
        return EXIT_FAILED
    if terminal.HasField("error"):
        sys.stderr.write(format_error(errors.from_error_event(terminal), prog=PROG))
        return EXIT_FAILED
    return EXIT_OK


class _Ticker:
    """Redraws the live status line between events with a loop timer (no task to own)."""

    def __init__(self, renderer: Renderer) -> None:
        self._renderer = renderer
        self._loop = asyncio.get_running_loop()
        self._handle = self._loop.call_later(_REFRESH_S, self._fire)

    def _fire(self) -> None:
        self._renderer.refresh()
        self._handle = self._loop.call_later(_REFRESH_S, self._fire)

    def stop(self) -> None:
        self._handle.cancel()


def _color() -> bool:
    return not os.environ.get("NO_COLOR")


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _silence_stdout() -> None:
    """After a broken pipe: point stdout at /dev/null so the interpreter's final flush is quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
