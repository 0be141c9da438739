"""The OpenAI-compatible HTTP runner against a real local server, started here on
127.0.0.1, that serves the tiny model and answers some requests with 429 and 500."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import onebench
import pytest
from onebench._eval import evaluate
from onebench.infer import HTTPRunner, Prompt, Runner, load_runner

pytest.importorskip("torch")
pytest.importorskip("transformers")

from infer_fixtures import build_tiny_model, toy_samples

SECRET = "sk-test-0123456789-never-log-me"


class OpenAIServer(ThreadingHTTPServer):
    """``/v1/chat/completions`` and ``/v1/completions`` over a local runner. ``failures``
    are statuses to answer before serving (one per request, in order)."""

    daemon_threads = True

    def __init__(self, runner) -> None:  # type: ignore[no-untyped-def]
        super().__init__(("127.0.0.1", 0), _Handler)
        self.runner = runner
        self.failures: list[int] = []
        self.requests: list[tuple[str, str | None, int | None]] = []
        self.lock = threading.Lock()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: OpenAIServer

    def log_message(self, format: str, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        server = self.server
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with server.lock:
            failure = server.failures.pop(0) if server.failures else None
            server.requests.append((self.path, self.headers.get("Authorization"), failure))
        if failure is not None:
            headers = {"Retry-After": "0"} if failure == 429 else {}
            self._send(failure, {"error": {"message": "injected"}}, headers)
            return
        if self.path == "/v1/chat/completions":
            text = request["messages"][-1]["content"]
        elif self.path == "/v1/completions":
            text = request["prompt"]
        else:
            self._send(404, {"error": {"message": "not found"}})
            return
        if request.get("max_tokens", 1) > 64:
            self._send(400, {"error": {"message": "max_tokens too large"}})
            return
        with server.lock:  # one generation at a time on the shared model
            generation = next(server.runner.generate([Prompt("request", text)]))
        choice = {"index": 0, "finish_reason": "length"}
        if self.path == "/v1/chat/completions":
            choice["message"] = {"role": "assistant", "content": generation.text}
        else:
            choice["text"] = generation.text
        usage = {
            "prompt_tokens": generation.prompt_tokens,
            "completion_tokens": generation.completion_tokens,
        }
        self._send(200, {"object": "chat.completion", "choices": [choice], "usage": usage})


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def local(tiny: Path):  # type: ignore[no-untyped-def]
    return load_runner("transformers", str(tiny), options={"max_new_tokens": 6}, batch_size=1)


@pytest.fixture
def server(local) -> Iterator[OpenAIServer]:  # type: ignore[no-untyped-def]
    server = OpenAIServer(local)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


PROMPTS = [
    Prompt(f"p{index}", text)
    for index, text in enumerate(toy_samples(6).column("text").to_pylist())
]


def test_outputs_match_the_local_runner_through_429_and_500_retries(
    server: OpenAIServer,
    local,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("ONEBENCH_TEST_KEY", SECRET)
    server.failures = [429, 500]
    runner = load_runner(
        "http",
        "tiny",
        options={"max_new_tokens": 6},
        base_url=server.base_url,
        api_key_env="ONEBENCH_TEST_KEY",
        concurrency=2,
        backoff=0.01,
    )
    assert isinstance(runner, Runner)
    with caplog.at_level(logging.DEBUG, logger="onebench"):
        results = {generation.sample_id: generation for generation in runner.generate(PROMPTS)}
    expected = {generation.sample_id: generation.text for generation in local.generate(PROMPTS)}
    assert {key: value.text for key, value in results.items()} == expected
    assert all(value.error is None for value in results.values())
    assert all(value.completion_tokens > 0 for value in results.values())
    # Both injected failures were retried: 6 answers from 8 requests.
    assert runner.retries == 2
    assert [failure for _, _, failure in server.requests] == [429, 500] + [None] * 6
    assert {authorization for _, authorization, _ in server.requests} == {f"Bearer {SECRET}"}
    assert "HTTP 429" in caplog.text and "HTTP 500" in caplog.text
    # The key is sent, but appears in no log, setting or representation.
    assert SECRET not in caplog.text
    assert SECRET not in json.dumps(runner.settings()) and SECRET not in repr(runner)


def test_the_completions_api_and_giving_up(server: OpenAIServer, local) -> None:  # type: ignore[no-untyped-def]
    runner = HTTPRunner(
        "tiny",
        base_url=server.base_url,
        api="completions",
        api_key_env=None,
        backoff=0.01,
        max_retries=1,
    )
    runner.options = runner.options.__class__(max_new_tokens=6)
    [generation] = runner.generate(PROMPTS[:1])
    assert generation.text == next(local.generate(PROMPTS[:1])).text
    assert server.requests[-1][1] is None  # no key configured, no Authorization header
    # Retries are bounded: two 503s exhaust max_retries=1 and the prompt fails, not the run.
    server.failures = [503, 503]
    [failed] = runner.generate(PROMPTS[:1])
    assert failed.error and "gave up after 2 attempts" in failed.error and failed.text == ""
    # A 400 is final: no retry.
    before = len(server.requests)
    greedy = HTTPRunner("tiny", base_url=server.base_url, api_key_env=None, backoff=0.01)
    [refused] = greedy.generate(PROMPTS[:1])  # the default max_new_tokens (256) is refused
    assert refused.error and refused.error.startswith("HTTP 400") and greedy.retries == 0
    assert len(server.requests) == before + 1


def test_a_dead_endpoint_is_retried_then_reported(unused_port: int) -> None:
    runner = HTTPRunner(
        "x", base_url=f"http://127.0.0.1:{unused_port}/v1", max_retries=2, backoff=0.01, timeout=2
    )
    [generation] = runner.generate(PROMPTS[:1])
    assert generation.error and "gave up after 3 attempts" in generation.error
    assert runner.retries == 2


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_http_evaluation_keeps_no_secret_in_the_pool(
    server: OpenAIServer, pool: onebench.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONEBENCH_TEST_KEY", SECRET)
    pool.add_samples(toy_samples(8))
    server.failures = [500]
    report = evaluate(
        pool,
        "tiny",
        runner="http",
        options={"max_new_tokens": 6},
        runner_settings={
            "base_url": server.base_url,
            "api_key_env": "ONEBENCH_TEST_KEY",
            "backoff": 0.01,
        },
    )
    assert (report.generated, report.committed, report.failed) == (8, 8, 0)
    for path in pool.path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
