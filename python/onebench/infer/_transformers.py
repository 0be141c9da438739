"""Local Hugging Face transformers runner: batched greedy generation on GPU or CPU.

Prompts are tokenised once (through the chat template when the tokenizer has one), sorted
by length and cut into batches, so that a batch pads its prompts to nearly the same length;
padding goes on the left, as decoder-only generation needs. On a GPU the weights load in
bfloat16; a batch that runs out of GPU memory is split in two and retried.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from ..exceptions import InvalidInputError
from ._runner import (
    Generation,
    GenerationOptions,
    Prompt,
    missing_extra,
    register_runner,
    truncate_at_stop,
)

__all__ = ["TransformersRunner", "encode_prompts", "plan_batches"]


def plan_batches(
    lengths: Sequence[int], batch_size: int, max_batch_tokens: int | None = None
) -> list[list[int]]:
    """Indexes of prompts grouped into batches, longest prompts first.

    A batch holds at most ``batch_size`` prompts and, when ``max_batch_tokens`` is given,
    at most that many padded prompt tokens (one over-long prompt still gets a batch)."""
    if batch_size < 1:
        raise InvalidInputError("batch_size: must be at least 1", field="batch_size")
    order = sorted(range(len(lengths)), key=lambda index: (-lengths[index], index))
    batches: list[list[int]] = []
    for index in order:
        current = batches[-1] if batches else None
        # Sorted longest first, so the batch's first prompt sets its padded width.
        fits = (
            current is not None
            and len(current) < batch_size
            and (
                max_batch_tokens is None
                or (len(current) + 1) * lengths[current[0]] <= max_batch_tokens
            )
        )
        if fits and current is not None:
            current.append(index)
        else:
            batches.append([index])
    return batches


def encode_prompts(
    tokenizer: Any, prompts: Sequence[Prompt], chat_template: bool
) -> list[list[int]]:
    """Token ids of each prompt, through the chat template when ``chat_template``."""
    if chat_template:
        texts = [
            tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt.text}],
                add_generation_prompt=True,
                tokenize=False,
            )
            for prompt in prompts
        ]
        return [tokenizer(text, add_special_tokens=False)["input_ids"] for text in texts]
    return [tokenizer(prompt.text)["input_ids"] for prompt in prompts]


class TransformersRunner:
    """Runs a causal language model from a local folder or the Hugging Face cache."""

    kind = "transformers"

    def __init__(
        self,
        model: str,
        *,
        options: GenerationOptions | None = None,
        batch_size: int = 16,
        max_batch_tokens: int | None = None,
        device: str | None = None,
        dtype: str | None = None,
        chat_template: bool | None = None,
        trust_remote_code: bool = False,
        threads: int | None = None,
    ) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as error:
            raise missing_extra(error, "the transformers runner") from error
        if threads:
            torch.set_num_threads(threads)
        self.model = model
        self.options = options or GenerationOptions()
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if dtype is None:
            dtype = "bfloat16" if self.device.startswith("cuda") else "float32"
        self.dtype = dtype
        self._torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.network = AutoModelForCausalLM.from_pretrained(
            model, dtype=getattr(torch, dtype), trust_remote_code=trust_remote_code
        ).to(self.device)  # type: ignore[arg-type]
        self.network.eval()
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        self.chat_template = has_template if chat_template is None else chat_template
        if self.chat_template and not has_template:
            raise InvalidInputError(
                f"chat_template: the tokenizer of {model!r} has no chat template",
                field="chat_template",
            )
        config = self.network.config
        self.context = getattr(config, "max_position_embeddings", None) or getattr(
            config, "n_positions", None
        )

    def settings(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "max_batch_tokens": self.max_batch_tokens,
            "device": self.device,
            "dtype": self.dtype,
            "chat_template": self.chat_template,
        }

    def encode(self, prompts: Sequence[Prompt]) -> list[list[int]]:
        return encode_prompts(self.tokenizer, prompts, self.chat_template)

    def generate(self, prompts: Sequence[Prompt]) -> Iterator[Generation]:
        encoded = self.encode(prompts)
        limit = self.context - self.options.max_new_tokens if self.context else None
        runnable = []
        for index, ids in enumerate(encoded):
            if not ids or (limit is not None and len(ids) > limit):
                reason = "empty prompt" if not ids else f"prompt has {len(ids)} tokens"
                yield Generation(prompts[index].sample_id, "", len(ids), 0, 0.0, reason)
            else:
                runnable.append(index)
        lengths = [len(encoded[index]) for index in runnable]
        for batch in plan_batches(lengths, self.batch_size, self.max_batch_tokens):
            members = [runnable[position] for position in batch]
            yield from self._generate_batch(
                [prompts[index] for index in members], [encoded[index] for index in members]
            )

    def _generate_batch(
        self, prompts: list[Prompt], encoded: list[list[int]]
    ) -> Iterator[Generation]:
        torch = self._torch
        started = time.perf_counter()
        try:
            new_tokens = self._run(encoded)
        except torch.OutOfMemoryError:
            if len(prompts) == 1:
                raise
            torch.cuda.empty_cache()
            half = len(prompts) // 2
            yield from self._generate_batch(prompts[:half], encoded[:half])
            yield from self._generate_batch(prompts[half:], encoded[half:])
            return
        share = (time.perf_counter() - started) / len(prompts)
        eos = self.tokenizer.eos_token_id
        for prompt, ids, tokens in zip(prompts, encoded, new_tokens, strict=True):
            produced = tokens.tolist()
            if eos in produced:
                produced = produced[: produced.index(eos) + 1]
            text = str(self.tokenizer.decode(produced, skip_special_tokens=True))
            text, _ = truncate_at_stop(text, self.options.stop)
            yield Generation(prompt.sample_id, text, len(ids), len(produced), share)

    def _run(self, encoded: list[list[int]]) -> Any:
        torch = self._torch
        width = max(len(ids) for ids in encoded)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in encoded])
        attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in encoded])
        options = self.options
        sampling: dict[str, Any] = {"do_sample": False}
        if not options.greedy:
            if options.seed is not None:
                torch.manual_seed(options.seed)
            sampling = {
                "do_sample": True,
                "temperature": options.temperature,
                "top_p": options.top_p,
            }
        with torch.inference_mode():
            output = self.network.generate(
                input_ids=input_ids.to(self.device),
                attention_mask=attention.to(self.device),
                max_new_tokens=options.max_new_tokens,
                pad_token_id=pad,
                eos_token_id=self.tokenizer.eos_token_id,
                **sampling,
            )
        return output[:, width:].cpu()

    def close(self) -> None:
        self.network = None
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()


@register_runner("transformers")
def _transformers_runner(
    model: str, *, options: GenerationOptions, **settings: Any
) -> TransformersRunner:
    return TransformersRunner(model, options=options, **settings)
