"""The Ray runner on a local Ray instance with 2 CPUs: two model replicas fed batches
through an actor pool give the same outputs, and the same measurements, as the local
runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import onebench
import pytest
from onebench._eval import evaluate
from onebench.infer import Prompt, RayRunner, Runner, load_runner

pytest.importorskip("torch")
pytest.importorskip("transformers")
ray = pytest.importorskip("ray")

from infer_fixtures import build_tiny_model, toy_samples  # noqa: E402

OPTIONS = {"max_new_tokens": 6}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def ray_runner(tiny: Path) -> Iterator[RayRunner]:
    # A local Ray instance bounded to the 2 cores of the test machine, without dashboard.
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        runner = load_runner(
            "ray", str(tiny), options=OPTIONS, replicas=2, cpus_per_replica=1, batch_size=3
        )
        yield runner
        runner.close()
    finally:
        ray.shutdown()


def test_ray_outputs_equal_the_local_runners(ray_runner: RayRunner, tiny: Path) -> None:
    assert isinstance(ray_runner, Runner)
    assert ray_runner.settings()["replicas"] == 2
    texts = toy_samples(12).column("text").to_pylist()
    prompts = [Prompt(f"p{index}", text) for index, text in enumerate(texts)]
    local = load_runner("transformers", str(tiny), options=OPTIONS, batch_size=3)
    from_ray = {generation.sample_id: generation for generation in ray_runner.generate(prompts)}
    from_local = {generation.sample_id: generation for generation in local.generate(prompts)}
    assert sorted(from_ray) == sorted(from_local)
    for key, generation in from_local.items():
        assert from_ray[key].text == generation.text
        assert from_ray[key].prompt_tokens == generation.prompt_tokens
        assert from_ray[key].completion_tokens == generation.completion_tokens


def test_a_ray_evaluation_commits_the_same_measurements(
    ray_runner: RayRunner, tiny: Path, tmp_path: Path
) -> None:
    tables = []
    for name, runner in (("local", "transformers"), ("ray", ray_runner)):
        pool = onebench.Pool.create(tmp_path / name)
        pool.add_samples(toy_samples(12))
        report = evaluate(
            pool,
            "tiny",
            runner=runner,
            checkpoint=str(tiny),
            options=OPTIONS,
            runner_settings={"batch_size": 3},
            chunk_size=6,
        )
        assert report.committed == 12
        table = pool.measurements().select(["sample_id", "model", "score", "grader"])
        tables.append(sorted(table.to_pylist(), key=lambda row: row["sample_id"]))
    assert tables[0] == tables[1]
