"""Turn a GGUF chat model into the plain bf16 safetensors folder vLLM's CPU build serves.

    <vllm-venv>/bin/python bench/vllm_cpu/dequantize.py GGUF_FILE OUTDIR

(``instruct.model()`` runs it once and keeps the result.) transformers reads the GGUF file (with the
``gguf`` package) and dequantizes its weights; ``save_pretrained`` refuses a model loaded from GGUF, so
the state dict is saved with safetensors (the tied ``lm_head.weight`` left out: vLLM ties it back), the
config without its ``quantization_config``, and the tokenizer (with its chat template) and generation
config as transformers writes them. Prints a line per step and a JSON summary on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    started = time.monotonic()

    def step(text: str) -> None:
        print(f"[dequantize {time.monotonic() - started:5.1f} s] {text}", flush=True)

    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out.mkdir(parents=True, exist_ok=True)
    step(f"reading the tokenizer of {source.name}")
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    step("dequantizing the weights to bf16 (about half a minute)")
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.bfloat16)
    step("writing model.safetensors")
    tied = bool(getattr(model.config, "tie_word_embeddings", False))
    state = {
        name: tensor.contiguous()
        for name, tensor in model.state_dict().items()
        if not (tied and name == "lm_head.weight")
    }
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    config = model.config.to_dict()
    config.pop("quantization_config", None)
    config["torch_dtype"] = "bfloat16"
    (out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    tokenizer.save_pretrained(str(out))
    model.generation_config.save_pretrained(str(out))
    params = sum(t.numel() for t in state.values())
    step(f"done: {params / 1e6:.1f} M parameters in {out}")
    summary = {
        "params": params,
        "tied_embeddings": tied,
        "eos_token": tokenizer.eos_token,
        "chat_template": bool(tokenizer.chat_template),
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
