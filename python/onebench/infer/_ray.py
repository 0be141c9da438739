"""Ray runner: one run spread over a Ray cluster, one model replica per GPU.

The driver tokenises the prompts and cuts them into the same length-sorted batches as the
local runner, then streams the batches through an actor pool: each actor holds one
:class:`TransformersRunner` and generates a batch at a time, and finished batches come back
as they complete. Because a batch is padded exactly as it would be locally, a Ray run gives
the same outputs as a local one. Workers need onebench installed (or a ``runtime_env``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ._runner import Generation, GenerationOptions, Prompt, missing_extra, register_runner

__all__ = ["RayRunner"]


class _Replica:
    """A Ray actor holding one model replica."""

    def __init__(self, model: str, options: dict[str, Any], settings: dict[str, Any]) -> None:
        from ._transformers import TransformersRunner

        self.runner = TransformersRunner(
            model, options=GenerationOptions.from_dict(options), **settings
        )

    def generate(self, prompts: list[tuple[str, str]]) -> list[Generation]:
        batch = [Prompt(sample_id, text) for sample_id, text in prompts]
        return list(self.runner.generate(batch))


class RayRunner:
    """Connects to ``address`` (``None``: start a local Ray instance; ``"auto"``: the
    cluster this machine belongs to) and starts ``replicas`` actors (default: one per GPU
    of the cluster, or one when it has none)."""

    kind = "ray"

    def __init__(
        self,
        model: str,
        *,
        options: GenerationOptions | None = None,
        address: str | None = None,
        replicas: int | None = None,
        gpus_per_replica: float | None = None,
        cpus_per_replica: float = 1,
        batch_size: int = 16,
        max_batch_tokens: int | None = None,
        chat_template: bool | None = None,
        dtype: str | None = None,
        init: dict[str, Any] | None = None,
    ) -> None:
        try:
            import ray
            from ray.util import ActorPool
            from transformers import AutoTokenizer
        except ImportError as error:
            raise missing_extra(error, "the Ray runner") from error
        self.model = model
        self.options = options or GenerationOptions()
        self.batch_size = batch_size
        self.max_batch_tokens = max_batch_tokens
        self._ray = ray
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            ray.init(address=address, **(init or {}))
        gpus = float(ray.cluster_resources().get("GPU", 0))
        if gpus_per_replica is None:
            gpus_per_replica = 1.0 if gpus else 0.0
        if replicas is None:
            replicas = max(1, int(gpus // gpus_per_replica)) if gpus_per_replica else 1
        self.replicas = replicas
        self.gpus_per_replica = gpus_per_replica
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        self.chat_template = has_template if chat_template is None else chat_template
        settings: dict[str, Any] = {
            "batch_size": batch_size,
            "max_batch_tokens": max_batch_tokens,
            "chat_template": self.chat_template,
            "dtype": dtype,
        }
        if not gpus_per_replica:
            # Without a GPU each replica gets the threads it reserved, not every core.
            settings["threads"] = max(1, int(cpus_per_replica))
        replica = ray.remote(num_gpus=gpus_per_replica, num_cpus=cpus_per_replica)(_Replica)
        self._actors: list[Any] = [
            replica.remote(model, self.options.to_dict(), settings) for _ in range(replicas)
        ]
        self._pool = ActorPool(self._actors)

    def settings(self) -> dict[str, Any]:
        return {
            "replicas": self.replicas,
            "gpus_per_replica": self.gpus_per_replica,
            "batch_size": self.batch_size,
            "max_batch_tokens": self.max_batch_tokens,
            "chat_template": self.chat_template,
        }

    def generate(self, prompts: Sequence[Prompt]) -> Iterator[Generation]:
        from ._transformers import encode_prompts, plan_batches

        lengths = [len(ids) for ids in encode_prompts(self.tokenizer, prompts, self.chat_template)]
        batches = [
            [(prompts[index].sample_id, prompts[index].text) for index in batch]
            for batch in plan_batches(lengths, self.batch_size, self.max_batch_tokens)
        ]
        for generations in self._pool.map_unordered(
            lambda actor, batch: actor.generate.remote(batch), batches
        ):
            yield from generations

    def close(self) -> None:
        for actor in self._actors:
            self._ray.kill(actor)
        self._actors = []
        if self._owns_ray:
            self._ray.shutdown()


@register_runner("ray")
def _ray_runner(model: str, *, options: GenerationOptions, **settings: Any) -> RayRunner:
    return RayRunner(model, options=options, **settings)
