"""The local transformers runner on a tiny randomly initialised GPT-2 (no download)."""

from __future__ import annotations

from pathlib import Path

import pytest
from onebench import InvalidInputError
from onebench.infer import (
    GenerationOptions,
    Prompt,
    Runner,
    TransformersRunner,
    load_runner,
    plan_batches,
    runner_kinds,
)

pytest.importorskip("torch")
pytest.importorskip("transformers")

from infer_fixtures import build_tiny_model

PROMPTS = [
    Prompt("short", "Hi"),
    Prompt("long", "What is the capital of France? Answer in one word, please."),
    Prompt("mid", "def add(a, b):"),
    Prompt("mid2", "12 apples cost 3 dollars."),
    Prompt("q", "Which colour is the sky?"),
]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


def test_plan_batches_sorts_by_length_and_bounds_batches() -> None:
    assert plan_batches([3, 9, 1, 9, 5], 2) == [[1, 3], [4, 0], [2]]
    # A token cap: 9 + 9 padded tokens fit 18, a third prompt would not.
    assert plan_batches([9, 9, 9, 2], 8, max_batch_tokens=18) == [[0, 1], [2, 3]]
    assert plan_batches([30, 2], 8, max_batch_tokens=10) == [[0], [1]]
    assert plan_batches([], 4) == []
    with pytest.raises(InvalidInputError, match="batch_size"):
        plan_batches([1], 0)


def test_generation_options_are_checked() -> None:
    assert GenerationOptions().greedy
    assert GenerationOptions.from_dict({"stop": ["\n"]}).stop == ("\n",)
    for bad in ({"max_new_tokens": 0}, {"temperature": -1}, {"top_p": 0}):
        with pytest.raises(InvalidInputError):
            GenerationOptions.from_dict(bad)
    with pytest.raises(InvalidInputError, match="unknown option 'beams'"):
        GenerationOptions.from_dict({"beams": 2})
    assert {"http", "ray", "transformers"} <= set(runner_kinds())
    with pytest.raises(InvalidInputError, match="unknown runner"):
        load_runner("nope", "x")


def test_batched_generation_matches_one_prompt_at_a_time(tiny: Path) -> None:
    options = {"max_new_tokens": 6}
    batched = load_runner("transformers", str(tiny), options=options, batch_size=4)
    single = load_runner("transformers", str(tiny), options=options, batch_size=1)
    assert isinstance(batched, Runner)
    assert batched.device == "cpu" and batched.dtype == "float32"
    first = {generation.sample_id: generation for generation in batched.generate(PROMPTS)}
    second = {generation.sample_id: generation for generation in single.generate(PROMPTS)}
    assert set(first) == {prompt.sample_id for prompt in PROMPTS}
    assert {key: value.text for key, value in first.items()} == {
        key: value.text for key, value in second.items()
    }
    tokens = batched.tokenizer("What is the capital of France? Answer in one word, please.")
    assert first["long"].prompt_tokens == len(tokens["input_ids"])
    for generation in first.values():
        assert 1 <= generation.completion_tokens <= 6 and generation.error is None
        assert generation.seconds > 0
    # Greedy is deterministic.
    assert [g.text for g in batched.generate(PROMPTS[:2])] == [
        g.text for g in batched.generate(PROMPTS[:2])
    ]


def test_stop_strings_cut_the_output(tiny: Path) -> None:
    plain = TransformersRunner(str(tiny), options=GenerationOptions(max_new_tokens=8))
    text = next(plain.generate([PROMPTS[1]])).text
    assert len(text) > 2
    stop = text[2:4]
    cut = TransformersRunner(str(tiny), options=GenerationOptions(max_new_tokens=8, stop=(stop,)))
    assert next(cut.generate([PROMPTS[1]])).text == text[: text.find(stop)]


def test_sampling_with_a_seed_is_reproducible(tiny: Path) -> None:
    options = GenerationOptions(max_new_tokens=8, temperature=1.5, seed=7)
    runner = TransformersRunner(str(tiny), options=options)
    assert [g.text for g in runner.generate(PROMPTS)] == [g.text for g in runner.generate(PROMPTS)]


def test_the_chat_template_is_used_when_the_tokenizer_has_one(tmp_path: Path) -> None:
    folder = build_tiny_model(tmp_path / "chat", chat_template=True)
    runner = TransformersRunner(str(folder), options=GenerationOptions(max_new_tokens=4))
    assert runner.chat_template
    templated = runner.tokenizer("<user>Hi<assistant>", add_special_tokens=False)["input_ids"]
    assert runner.encode([Prompt("a", "Hi")]) == [templated]
    assert next(runner.generate([Prompt("a", "Hi")])).prompt_tokens == len(templated)
    plain = TransformersRunner(str(folder), chat_template=False)
    assert plain.encode([Prompt("a", "Hi")]) == [plain.tokenizer("Hi")["input_ids"]]


def test_a_prompt_too_long_for_the_context_is_an_error_not_a_crash(tiny: Path) -> None:
    runner = TransformersRunner(str(tiny), options=GenerationOptions(max_new_tokens=4))
    results = {
        generation.sample_id: generation
        for generation in runner.generate([Prompt("huge", "word " * 400), PROMPTS[0]])
    }
    assert results["huge"].error and "tokens" in results["huge"].error
    assert results["huge"].text == "" and results["short"].error is None
    with pytest.raises(InvalidInputError, match="no chat template"):
        TransformersRunner(str(tiny), chat_template=True)
