"""Build a tiny, random-weight chat model that vLLM can serve, with no downloads.

    <vllm-venv>/bin/python bench/vllm_cpu/make_model.py OUTDIR CORPUS_DIR [--vocab-size 4096] [--seed 0]

(``venv.model()`` runs it once and keeps the result.)

- Tokenizer: byte-level BPE trained with `tokenizers` on every string in CORPUS_DIR/*.jsonl,
  special tokens <|endoftext|> <|im_start|> <|im_end|>, ChatML chat_template written into
  tokenizer_config.json.
- Model: LlamaForCausalLM, hidden 128, 2 layers, 4 heads / 2 KV heads, head_dim 32,
  intermediate 256, max positions 2048, bf16, random weights from a fixed seed (~1.3 M params).
  Its text is gibberish. It declares no end-of-sequence token: random weights would end answers at a
  random token (<|im_end|> is still the template's turn delimiter), so every generation runs to its
  max_tokens (finish_reason "length") — answers of a known length, as ``ignore_eos`` would give, for
  requests that cannot set it (Qianshi's).

Deterministic: the same corpus, vocab size and seed give byte-identical files (checked by
comparing sha256 sums of two builds). Prints the build time and a JSON summary on stdout.
Must run with the vLLM venv's python (needs torch, transformers, tokenizers).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def corpus_texts(corpus_dir: Path) -> list[str]:
    """Every string value (keys excluded) of every record of every *.jsonl, in a fixed order."""

    def walk(value, out: list[str]) -> None:
        if isinstance(value, str):
            if value.strip():
                out.append(value)
        elif isinstance(value, dict):
            for key in sorted(value):
                walk(value[key], out)
        elif isinstance(value, list):
            for item in value:
                walk(item, out)

    texts: list[str] = []
    files = sorted(corpus_dir.glob("*.jsonl"))
    if not files:
        raise SystemExit(f"no *.jsonl in {corpus_dir}")
    for path in files:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    walk(json.loads(line), texts)
    return texts


def build_tokenizer(texts: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token=None,
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=2048,
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_model(tokenizer, seed: int):
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=32,
        max_position_embeddings=2048,
        rms_norm_eps=1e-6,
        rope_theta=10000.0,
        tie_word_embeddings=False,
        bos_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
        eos_token_id=None,
        pad_token_id=tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    )
    config.dtype = torch.bfloat16
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.eval()
    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
    )
    return model


def fix_tokenizer_config(outdir: Path) -> None:
    """Keep the chat template inside tokenizer_config.json (transformers 5 may write a separate
    chat_template.jinja, which it then prefers): one place, the documented one."""
    cfg_path = outdir / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    cfg["chat_template"] = CHAT_TEMPLATE
    # transformers 5 writes "TokenizersBackend", which transformers 4.x cannot load;
    # "PreTrainedTokenizerFast" loads in both (5.x maps it to TokenizersBackend).
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(
        json.dumps(cfg, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    jinja = outdir / "chat_template.jinja"
    if jinja.exists():
        jinja.unlink()


def digest(outdir: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in outdir.rglob("*") if p.is_file()):
        h.update(path.relative_to(outdir).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("corpus_dir", type=Path)
    ap.add_argument("--vocab-size", type=int, default=4096)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Importing transformers/torch creates $TMPDIR/torchinductor_<user>: keep it out of /tmp
    # (must happen before torch is imported and before anything calls tempfile.gettempdir()).
    args.outdir.parent.mkdir(parents=True, exist_ok=True)
    work_tmp = tempfile.mkdtemp(prefix=".make_model-tmp-", dir=args.outdir.parent)
    os.environ["TMPDIR"] = tempfile.tempdir = work_tmp
    try:
        return build(args)
    finally:
        shutil.rmtree(work_tmp, ignore_errors=True)


def build(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    texts = corpus_texts(args.corpus_dir)
    tokenizer = build_tokenizer(texts, args.vocab_size)
    t_tok = time.perf_counter()
    model = build_model(tokenizer, args.seed)
    t_model = time.perf_counter()

    args.outdir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(args.outdir)
    fix_tokenizer_config(args.outdir)
    model.save_pretrained(args.outdir, safe_serialization=True)
    t_end = time.perf_counter()

    # Self-check: the chat template renders and round-trips through the saved tokenizer.
    from transformers import AutoTokenizer

    loaded = AutoTokenizer.from_pretrained(args.outdir)
    prompt = loaded.apply_chat_template(
        [{"role": "user", "content": "求財如何"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt == "<|im_start|>user\n求財如何<|im_end|>\n<|im_start|>assistant\n", prompt
    assert loaded.decode(loaded.encode(prompt)) == prompt

    summary = {
        "outdir": str(args.outdir),
        "texts": len(texts),
        "vocab_size": len(tokenizer),
        "params": sum(p.numel() for p in model.parameters()),
        "seconds": {
            "tokenizer": round(t_tok - t0, 2),
            "model": round(t_model - t_tok, 2),
            "save": round(t_end - t_model, 2),
            "total": round(t_end - t0, 2),
        },
        "sha256": digest(args.outdir),
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
