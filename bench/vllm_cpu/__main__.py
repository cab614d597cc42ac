"""``python -m bench.vllm_cpu``: a real ``vllm serve`` (CPU build, tiny model) on this machine.

    python -m bench.vllm_cpu setup                 # make the venv, the overlay and the model; print where
    python -m bench.vllm_cpu serve [--port 8000]   # serve the tiny model until Ctrl-C
    python -m bench.vllm_cpu qianshi [SERVER OPTIONS]   # qianshi-server --llm vllm, engine in-process

With ``serve`` running: ``qianshi-server --llm openai --llm-url http://127.0.0.1:8000/v1``, from the
same session (a vLLM started from another session starves it: README, "Generators"). ``qianshi`` runs
this clone's server on the overlay interpreter (vLLM importable) with ``--llm vllm --model <the tiny
model> --dtype bfloat16`` and whatever options follow.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from bench.vllm_cpu import procs, venv


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.vllm_cpu", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="make the venv, the overlay and the tiny model (reused later)")
    s = sub.add_parser("serve", help="serve the tiny model with vllm serve until interrupted")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument(
        "--enforce-eager", action="store_true", help="no torch.compile: starts faster, decodes slower"
    )
    sub.add_parser("qianshi", help="qianshi-server --llm vllm on the overlay interpreter (options follow)")
    args, rest = p.parse_known_args(argv)
    if rest and args.command != "qianshi":
        p.error(f"unrecognized arguments: {' '.join(rest)}")

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    where = venv.ensure(say)
    model = venv.model(where, say)
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
        argv_ = procs.serve_command(venv.python(where), model, args.port, enforce_eager=args.enforce_eager)
        service = procs.Service("vllm", argv_, run.environment())
    run.remember(service.pgid)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if args.command == "serve":
            service.wait_for("Application startup complete", 600)
            say(f"vllm serve ready: http://127.0.0.1:{args.port}/v1 (model 'tiny'); Ctrl-C stops it")
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
