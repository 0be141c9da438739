"""Runner for any OpenAI-compatible HTTP endpoint (vLLM, TGI, llama.cpp server, hosted APIs).

Requests go out on a bounded thread pool (the concurrency limit). A 429, a 5xx, a timeout
or a dropped connection is retried with exponential backoff and jitter, honouring
``Retry-After``; other 4xx answers are final. A prompt that still fails becomes a
``Generation`` with ``error`` set, so one bad prompt never sinks a run. The API key is read
from an environment variable at request time and appears in no setting, log or error.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from ..exceptions import InvalidInputError
from ._runner import Generation, GenerationOptions, Prompt, register_runner, truncate_at_stop

__all__ = ["HTTPRunner"]

log = logging.getLogger("onebench.infer")

_RETRY_STATUSES = frozenset({408, 409, 425, 429}) | frozenset(range(500, 600))


class _Retryable(Exception):
    def __init__(self, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.wait = wait


class HTTPRunner:
    """Calls ``{base_url}/chat/completions`` (``api="chat"``) or ``{base_url}/completions``."""

    kind = "http"

    def __init__(
        self,
        model: str,
        *,
        options: GenerationOptions | None = None,
        base_url: str = "http://127.0.0.1:8000/v1",
        api: str = "chat",
        api_key_env: str | None = "OPENAI_API_KEY",
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
    ) -> None:
        if api not in ("chat", "completions"):
            raise InvalidInputError("api: choose 'chat' or 'completions'", field="api")
        if concurrency < 1:
            raise InvalidInputError("concurrency: must be at least 1", field="concurrency")
        self.model = model
        self.options = options or GenerationOptions()
        self.base_url = base_url.rstrip("/")
        self.api = api
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.retries = 0  # retried requests so far, for reports and tests

    def settings(self) -> dict[str, Any]:
        # The key's variable name only, never its value.
        return {
            "base_url": self.base_url,
            "api": self.api,
            "api_key_env": self.api_key_env,
            "concurrency": self.concurrency,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    def __repr__(self) -> str:
        return f"HTTPRunner(model={self.model!r}, base_url={self.base_url!r}, api={self.api!r})"

    def generate(self, prompts: Sequence[Prompt]) -> Iterator[Generation]:
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="onebench-http")
        try:
            futures = [pool.submit(self._one, prompt) for prompt in prompts]
            for future in as_completed(futures):
                yield future.result()
        finally:
            # On Ctrl-C or an early stop, queued requests are dropped, not sent.
            pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        pass  # no connection is kept between calls

    def _body(self, prompt: Prompt) -> dict[str, Any]:
        options = self.options
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": options.max_new_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
        }
        if self.api == "chat":
            body["messages"] = [{"role": "user", "content": prompt.text}]
        else:
            body["prompt"] = prompt.text
        if options.stop:
            body["stop"] = list(options.stop)
        if options.seed is not None:
            body["seed"] = options.seed
        return body

    def _one(self, prompt: Prompt) -> Generation:
        started = time.perf_counter()
        data = json.dumps(self._body(prompt)).encode()
        path = "/chat/completions" if self.api == "chat" else "/completions"
        attempt = 0
        while True:
            try:
                answer = self._post(self.base_url + path, data)
                break
            except _Retryable as error:
                if attempt >= self.max_retries:
                    message = f"gave up after {attempt + 1} attempts: {error}"
                    return Generation(
                        prompt.sample_id, "", 0, 0, time.perf_counter() - started, message
                    )
                wait = None if error.wait is None else min(error.wait, self.max_backoff)
                if wait is None:
                    wait = min(self.max_backoff, self.backoff * 2**attempt)
                    wait *= random.uniform(0.5, 1.0)  # jitter spreads out synchronized retries
                log.info("%s: %s; retry %d in %.2fs", prompt.sample_id, error, attempt + 1, wait)
                self.retries += 1
                attempt += 1
                time.sleep(wait)
            except _Final as error:
                return Generation(
                    prompt.sample_id, "", 0, 0, time.perf_counter() - started, str(error)
                )
        try:
            choice = answer["choices"][0]
            text = choice["message"]["content"] if self.api == "chat" else choice["text"]
        except (KeyError, IndexError, TypeError):
            return Generation(
                prompt.sample_id,
                "",
                0,
                0,
                time.perf_counter() - started,
                "the answer has no choices[0] text",
            )
        usage = answer.get("usage") or {}
        text, _ = truncate_at_stop(text or "", self.options.stop)
        return Generation(
            prompt.sample_id,
            text,
            int(usage.get("prompt_tokens") or 0),
            int(usage.get("completion_tokens") or 0),
            time.perf_counter() - started,
            extra={"finish_reason": choice.get("finish_reason")},
        )

    def _post(self, url: str, data: bytes) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            status = error.code
            detail = error.read()[:200].decode("utf-8", "replace")
            if status in _RETRY_STATUSES:
                raise _Retryable(f"HTTP {status}", _retry_after(error.headers)) from None
            raise _Final(f"HTTP {status}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise _Retryable(f"{type(error).__name__}: {getattr(error, 'reason', error)}") from None
        except json.JSONDecodeError:
            raise _Final("the answer is not JSON") from None


class _Final(Exception):
    pass


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


@register_runner("http")
def _http_runner(model: str, *, options: GenerationOptions, **settings: Any) -> HTTPRunner:
    return HTTPRunner(model, options=options, **settings)
