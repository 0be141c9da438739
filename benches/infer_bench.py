"""Generation throughput of the local transformers runner against a plain
one-prompt-at-a-time ``model.generate`` loop, in one run, on the same model and prompts.

    python benches/infer_bench.py                     # CPU: a small GPT-2, 32 prompts
    python benches/infer_bench.py --config gpu        # GPU (bf16): a GPT-2-small-sized model

The model is a randomly initialised GPT-2 built from a config and a byte-level BPE
tokenizer trained here on generated text, so nothing is downloaded. Prompts are 8 to 120
words long. Both sides decode greedily for ``--max-new-tokens`` tokens; the time includes
tokenising and decoding; tokens/s counts the completion tokens each side produced (up to an
end-of-text token, which a random model rarely emits). Before timing, each side runs once on
a few prompts (CUDA kernels and allocator warm-up). Prints a Markdown table and a ratio.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

CONFIGS = {
    # n_layer, n_embd, n_head, vocab, prompts, max_new_tokens, batch_size
    "cpu": (4, 256, 4, 2000, 32, 32, 16),
    "gpu": (12, 768, 12, 32000, 512, 128, 64),
}

WORDS = (
    "model sample pool benchmark answer question rank score the a of to in is that for "
    "with on as by at from this be are was it an or which not have has had can will more "
    "capital France Paris river number seven twelve apple orange blue green red compute "
    "integral derivative matrix vector protein molecule energy history language write code"
).split()


def build(folder: Path, layers: int, width: int, heads: int, vocab: int) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    generator = random.Random(0)
    corpus = [" ".join(generator.choices(WORDS, k=40)) + f" {index}" for index in range(3000)]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=["<|endoftext|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|pad|>"
    )
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(fast),
        n_positions=1024,
        n_embd=width,
        n_layer=layers,
        n_head=heads,
        bos_token_id=fast.eos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    fast.save_pretrained(folder)


def prompts(count: int) -> list[str]:
    generator = random.Random(1)
    return [" ".join(generator.choices(WORDS, k=generator.randint(8, 120))) for _ in range(count)]


def plain_loop(folder: Path, texts: list[str], max_new_tokens: int, device: str) -> int:
    """The baseline: one ``generate`` call per prompt, no batching."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).to(device).eval()
    produced = 0
    for text in texts:
        encoded = tokenizer(text, return_tensors="pt").to(device)
        with torch.inference_mode():
            output = model.generate(
                **encoded,
                max_new_tokens=max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        tokens = output[0, encoded["input_ids"].shape[1] :].tolist()
        if tokenizer.eos_token_id in tokens:
            tokens = tokens[: tokens.index(tokenizer.eos_token_id) + 1]
        tokenizer.decode(tokens, skip_special_tokens=True)
        produced += len(tokens)
    return produced


def runner_batched(
    folder: Path, texts: list[str], max_new_tokens: int, device: str, batch_size: int
) -> int:
    from onebench.infer import GenerationOptions, Prompt, TransformersRunner

    runner = TransformersRunner(
        str(folder),
        options=GenerationOptions(max_new_tokens=max_new_tokens),
        batch_size=batch_size,
        device=device,
    )
    batch = [Prompt(str(index), text) for index, text in enumerate(texts)]
    return sum(generation.completion_tokens for generation in runner.generate(batch))


def timed(function, *arguments) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    import torch

    started = time.perf_counter()
    tokens = function(*arguments)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return tokens, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", choices=sorted(CONFIGS), default="cpu")
    parser.add_argument("--device", help="default: cuda for --config gpu, else cpu")
    parser.add_argument("--prompts", type=int)
    parser.add_argument("--max-new-tokens", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    layers, width, heads, vocab, count, new_tokens, batch_size = CONFIGS[args.config]
    count = args.prompts or count
    new_tokens = args.max_new_tokens or new_tokens
    batch_size = args.batch_size or batch_size
    device = args.device or ("cuda" if args.config == "gpu" else "cpu")
    import torch

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder)
        build(path, layers, width, heads, vocab)
        texts = prompts(count)
        warm = texts[:4]
        plain_loop(path, warm, 4, device)
        runner_batched(path, warm, 4, device, batch_size)
        plain_tokens, plain_seconds = timed(plain_loop, path, texts, new_tokens, device)
        batched_tokens, batched_seconds = timed(
            runner_batched, path, texts, new_tokens, device, batch_size
        )
    plain_rate = plain_tokens / plain_seconds
    batched_rate = batched_tokens / batched_seconds
    hardware = (
        torch.cuda.get_device_name()
        if device.startswith("cuda")
        else (f"CPU, {torch.get_num_threads()} threads")
    )
    result = {
        "config": args.config,
        "device": hardware,
        "layers": layers,
        "width": width,
        "vocab": vocab,
        "prompts": count,
        "max_new_tokens": new_tokens,
        "batch_size": batch_size,
        "plain_loop": {
            "tokens": plain_tokens,
            "seconds": plain_seconds,
            "tokens_per_s": plain_rate,
        },
        "runner": {
            "tokens": batched_tokens,
            "seconds": batched_seconds,
            "tokens_per_s": batched_rate,
        },
        "ratio": batched_rate / plain_rate,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{hardware}: GPT-2 {layers}x{width}, vocab {vocab}, {count} prompts, "
        f"{new_tokens} new tokens, batch {batch_size}\n"
    )
    print("| method | completion tokens | seconds | tokens/s |\n|---|---:|---:|---:|")
    print(
        f"| plain generate loop (one prompt at a time) | {plain_tokens} | {plain_seconds:.2f} "
        f"| {plain_rate:.0f} |"
    )
    print(
        f"| onebench TransformersRunner (batched) | {batched_tokens} | {batched_seconds:.2f} "
        f"| {batched_rate:.0f} |"
    )
    print(f"\nratio: {result['ratio']:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
