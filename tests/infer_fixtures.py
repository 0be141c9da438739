"""A tiny randomly initialised GPT-2 and a byte-level BPE tokenizer, built from a config
and a few sentences, saved to a folder: runners load it like any checkpoint, and nothing
is downloaded."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pyarrow as pa
from onebench.infer import Generation, GenerationOptions, Prompt

CORPUS = [
    "What is 2 + 2? The answer is 4.",
    "Which colour is the sky? (A) red (B) blue (C) green. Answer: B",
    "def add(a, b):\n    return a + b",
    "The capital of France is Paris. 12 apples cost 3 dollars.",
]


def build_tiny_model(folder: Path, *, seed: int = 0, chat_template: bool = False) -> Path:
    """Writes the tiny model and its tokenizer to ``folder``; returns it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|endoftext|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS * 8, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, eos_token="<|endoftext|>", pad_token="<|pad|>"
    )
    if chat_template:
        fast.chat_template = (
            "{% for message in messages %}<{{ message['role'] }}>{{ message['content'] }}"
            "{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"
        )
    torch.manual_seed(seed)
    config = GPT2Config(
        vocab_size=len(fast),
        n_positions=256,
        n_embd=32,
        n_layer=2,
        n_head=2,
        # Wide initial weights make the random model's outputs varied, not one token repeated.
        initializer_range=0.5,
        bos_token_id=fast.eos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    model = GPT2LMHeadModel(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def toy_samples(count: int = 12) -> pa.Table:
    """A small benchmark whose samples pick different graders through their metadata."""
    rows = []
    for index in range(count):
        flavour = index % 4
        if flavour == 0:
            rows.append({"text": f"What is {index} + 1?", "reference": str(index + 1)})
        elif flavour == 1:
            rows.append(
                {
                    "text": f"Question {index}: pick one.\n(A) red\n(B) blue\n(C) green",
                    "reference": "B: blue",
                }
            )
        elif flavour == 2:
            rows.append(
                {
                    "text": f"Say a word, {index}.",
                    "reference": "word",
                    "grader": "regex",
                    "pattern": "[aeiou]",
                }
            )
        else:
            rows.append({"text": f"The capital of France, {index}?", "reference": "Paris"})
        rows[-1]["sample_id"] = f"toy/{index}"
        rows[-1]["benchmark"] = "toy"
    columns = sorted({key for row in rows for key in row})
    return pa.table({key: [row.get(key) for row in rows] for key in columns})


class Scripted:
    """A runner that answers each prompt with ``answer(prompt text)``: for tests of the
    evaluation flow and of judges that need no model."""

    kind = "scripted"
    options = GenerationOptions()

    def __init__(self, model: str, answer: Callable[[str], str]) -> None:
        self.model = model
        self.answer = answer
        self.prompts: list[Prompt] = []

    def settings(self) -> dict[str, object]:
        return {}

    def generate(self, prompts: Sequence[Prompt]) -> Iterator[Generation]:
        for prompt in prompts:
            self.prompts.append(prompt)
            yield Generation(prompt.sample_id, self.answer(prompt.text), 3, 2, 0.001)

    def close(self) -> None:
        pass
