"""The MCP server against a hostile client: with writes allowed it cannot make the server
send any of its environment anywhere nor load code (runners come only from the operator's
profiles); a read-only server's create_benchmark leaves the pool's files byte for byte as
they were; tokens without entropy are refused."""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import onebench
import pytest
from mcp_fixtures import build_synthetic_pool, serve_command

mcp = pytest.importorskip("mcp")
from mcp import Client  # noqa: E402
from onebench import InvalidInputError  # noqa: E402
from onebench.mcp import RunnerProfile, build_server, load_profiles  # noqa: E402
from onebench.mcp._auth import check_listen, check_token  # noqa: E402
from onebench.query import Benchmark  # noqa: E402

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mcp-security") / "pool"
    pool = build_synthetic_pool(path, n_models=4, n_samples=300)
    pool.add_samples(
        [
            {"sample_id": f"ask/{n}", "benchmark": "ask", "text": f"Say {n}.", "reference": str(n)}
            for n in range(4)
        ]
    )
    return path


@pytest.fixture
def pool_copy(pool_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "pool"
    shutil.copytree(pool_dir, copy)
    return copy


class Recorder(ThreadingHTTPServer):
    """An OpenAI-compatible endpoint that records every request (path, headers, body) and
    answers the number in the prompt."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Recording)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def seen(self) -> str:
        with self.lock:
            return json.dumps(self.requests)


class _Recording(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        with self.server.lock:
            self.server.requests.append(
                {"path": self.path, "headers": dict(self.headers.items()), "body": body}
            )
        try:
            prompt = json.loads(body)["messages"][-1]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            prompt = ""
        number = "".join(char for char in prompt if char.isdigit())
        payload = json.dumps(
            {
                "choices": [{"message": {"content": number}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET = _handle


@pytest.fixture
def endpoints() -> Iterator[tuple[Recorder, Recorder]]:
    """The operator's endpoint and one the attacker would like the server to call."""
    servers = (Recorder(), Recorder())
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    yield servers
    for server in servers:
        server.shutdown()
        server.server_close()


async def _error(client: Client, arguments: dict[str, Any]) -> str:
    result = await client.call_tool("evaluate_model", arguments)
    assert result.is_error, result.structured_content
    return str(result.content[0].text)


async def test_a_hostile_client_cannot_send_the_servers_environment_anywhere(
    pool_copy: Path, endpoints: tuple[Recorder, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    operator, attacker = endpoints
    canary, token, key = (secrets.token_hex(16) for _ in range(3))
    monkeypatch.setenv("SECRET_CANARY", canary)
    monkeypatch.setenv("ONEBENCH_MCP_TOKEN", token)
    monkeypatch.setenv("OPERATOR_KEY", key)
    profiles = {
        "api": {
            "runner": "http",
            "base_url": operator.url,
            "api_key_env": "OPERATOR_KEY",
            "max_retries": 0,
            "checkpoints": ["acme-chat"],
        }
    }
    base = {"model": "acme", "benchmark": "ask", "grader": "exact_match"}
    attacks = [
        {"runner_settings": {"base_url": attacker.url, "api_key_env": "SECRET_CANARY"}},
        {"runner_settings": {"base_url": attacker.url, "api_key_env": "ONEBENCH_MCP_TOKEN"}},
        {"runner": "http"},
        {"base_url": attacker.url},
        {"api_key_env": "SECRET_CANARY"},
        {"checkpoint": attacker.url},
        {"checkpoint": "../../etc"},
        {"profile": "elsewhere"},
        {"trust_remote_code": True},
        {"grader_options": {"allow_weak_isolation": True}},
    ]
    async with Client(
        build_server(pool_copy, allow_writes=True, runner_profiles=profiles)
    ) as client:
        tool = next(t for t in (await client.list_tools()).tools if t.name == "evaluate_model")
        schema = json.dumps(tool.input_schema)
        for word in ("runner_settings", "base_url", "api_key_env", "trust_remote_code"):
            assert word not in schema
        errors = [await _error(client, {**base, **attack}) for attack in attacks]
        # What the client may choose: the profile's checkpoint and generation options.
        result = await client.call_tool(
            "evaluate_model", {**base, "profile": "api", "temperature": 0.0, "stop": ["\n"]}
        )
        assert not result.is_error, result.content[0].text
        assert result.structured_content["committed"] == 4
        assert result.structured_content["mean_score"] == {"exact_match": 1.0}
    assert attacker.requests == []
    assert len(operator.requests) == 4
    for request in operator.requests:
        assert request["headers"]["Authorization"] == f"Bearer {key}"
        assert json.loads(request["body"])["model"] == "acme-chat"
    everything = operator.seen() + json.dumps(errors)
    assert canary not in everything and token not in everything
    assert all(
        "profile" in error or "Extra inputs" in error or "checkpoint" in error for error in errors
    ), errors


async def test_a_hostile_client_cannot_make_the_server_load_code(
    pool_copy: Path, tmp_path: Path
) -> None:
    """A checkpoint folder whose config points at its own Python (a payload that leaves a
    file when imported): outside the profile's list it is refused before anything is read;
    on the list, remote code stays off, so the payload never runs. The control: an operator
    profile that trusts remote code does run it."""
    pytest.importorskip("transformers")
    from infer_fixtures import build_tiny_model

    canary = tmp_path / "code-ran"
    folders = [build_tiny_model(tmp_path / name) for name in ("allowed", "hostile", "trusted")]
    for folder in folders:
        (folder / "payload.py").write_text(
            f"open({str(canary)!r}, 'w').write('ran')\n"
            "from transformers import GPT2Config, GPT2LMHeadModel\n"
            "class PayloadConfig(GPT2Config):\n    pass\n"
            "class PayloadModel(GPT2LMHeadModel):\n    config_class = PayloadConfig\n"
        )
        config = json.loads((folder / "config.json").read_text())
        config["auto_map"] = {
            "AutoConfig": "payload.PayloadConfig",
            "AutoModelForCausalLM": "payload.PayloadModel",
        }
        (folder / "config.json").write_text(json.dumps(config))
    allowed, hostile, trusted = folders
    profiles = {
        "local": RunnerProfile("transformers", (str(allowed),), {"device": "cpu"}),
        "trusting": RunnerProfile(
            "transformers", (str(trusted),), {"device": "cpu", "trust_remote_code": True}
        ),
    }
    base = {"model": "payload", "benchmark": "ask", "grader": "exact_match", "limit": 1}
    async with Client(
        build_server(pool_copy, allow_writes=True, runner_profiles=profiles)
    ) as client:
        local = {**base, "profile": "local"}
        assert "checkpoint" in await _error(client, {**local, "checkpoint": str(hostile)})
        assert "Extra inputs" in await _error(client, {**local, "trust_remote_code": True})
        result = await client.call_tool("evaluate_model", {**local, "max_new_tokens": 2})
        assert not result.is_error, result.content[0].text
        assert result.structured_content["generated"] == 1
        assert not canary.exists()
        # The control: the operator's own choice to trust remote code runs the payload.
        trusting = {**base, "model": "trusted", "profile": "trusting", "max_new_tokens": 2}
        await client.call_tool("evaluate_model", trusting)
    assert canary.exists()


def test_profiles_come_from_the_operator_and_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "profiles.toml"
    path.write_text(
        '[openai]\nrunner = "http"\nbase_url = "https://api.openai.com/v1"\n'
        'api_key_env = "OPENAI_API_KEY"\ncheckpoints = ["gpt-4o-mini", "gpt-4o"]\n'
    )
    profiles = load_profiles(path)
    assert profiles["openai"] == RunnerProfile(
        "http",
        ("gpt-4o-mini", "gpt-4o"),
        {"base_url": "https://api.openai.com/v1", "api_key_env": "OPENAI_API_KEY"},
    )
    assert profiles["openai"].checkpoint("gpt-4o", None) == "gpt-4o"
    with pytest.raises(InvalidInputError, match="checkpoint"):
        profiles["openai"].checkpoint("acme", None)
    bad = [
        ({"x": {"runner": "telepathy", "checkpoints": ["a"]}}, "unknown runner"),
        ({"x": {"runner": "http", "checkpoints": []}}, "checkpoints"),
        ({"x": {"runner": "http", "checkpoints": ["a"], "base_ur": "x"}}, "base_ur"),
        ({"bad name": {"runner": "http", "checkpoints": ["a"]}}, "names are"),
    ]
    for tables, message in bad:
        with pytest.raises(InvalidInputError, match=message):
            load_profiles(tables)
    with pytest.raises(InvalidInputError, match="needs allow_writes"):
        build_server(tmp_path, runner_profiles=profiles)


def _files(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


async def _call(client: Client, tool: str, **arguments: Any) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content


async def test_read_only_create_benchmark_leaves_the_pool_files_unchanged(
    pool_copy: Path,
) -> None:
    pool = onebench.Pool.open(pool_copy)
    saved_ids = pool.samples().column("sample_id").to_pylist()[:50]
    pool.save_benchmark(Benchmark.from_ids(saved_ids), "users-50")
    before = _files(pool_copy)
    async with Client(build_server(pool_copy)) as client:
        created = await _call(client, "create_benchmark", name="mine", sample_ids=saved_ids[:3])
        assert created["n_samples"] == 3
        replaced = await _call(
            client, "create_benchmark", name="mine", sample_ids=saved_ids[:2], overwrite=True
        )
        assert replaced["n_samples"] == 2
        refused = await client.call_tool(
            "create_benchmark", {"name": "users-50", "sample_ids": saved_ids[:1], "overwrite": True}
        )
        assert refused.is_error and "read-only" in refused.content[0].text
        listed = {
            entry["name"]: entry for entry in (await _call(client, "list_benchmarks"))["benchmarks"]
        }
        assert (listed["mine"]["kind"], listed["mine"]["n_samples"]) == ("session", 2)
        assert (listed["users-50"]["kind"], listed["users-50"]["n_samples"]) == ("saved", 50)
        ranked = await _call(client, "rank_models", benchmark="mine")
        assert ranked["selection"]["kind"] == "session_benchmark"
        assert ranked["selection"]["n_samples"] == 2
    assert _files(pool_copy) == before
    assert len(onebench.Pool.open(pool_copy).benchmark("users-50")) == 50
    assert onebench.Pool.open(pool_copy).benchmarks() == ["users-50"]


@pytest.mark.parametrize(
    "token",
    [" " * 16, "\t" * 20, "a" * 40, "ab" * 20, "x" * 15 + "y" * 5, "password12345678", "short"],
)
def test_tokens_without_entropy_are_refused(token: str) -> None:
    with pytest.raises(InvalidInputError, match="token"):
        check_listen("0.0.0.0", token)


def test_random_tokens_are_accepted() -> None:
    for _ in range(2000):
        check_token(secrets.token_urlsafe(16))
        check_token(secrets.token_hex(16))
        check_token(secrets.token_urlsafe(32))


def test_onebench_serve_refuses_a_blank_token(pool_dir: Path) -> None:
    result = subprocess.run(
        serve_command(pool_dir, "--transport", "http", "--host", "0.0.0.0", "--port", "0"),
        capture_output=True,
        text=True,
        timeout=60,
        env={"ONEBENCH_MCP_TOKEN": " " * 16, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "token: use visible ASCII characters only" in result.stderr


def test_onebench_serve_takes_runner_profiles_only_with_writes(
    pool_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"api": {"runner": "http", "checkpoints": ["acme"]}}))
    result = subprocess.run(
        serve_command(pool_dir, "--runner-profiles", str(path)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "runner_profiles: evaluate_model commits measurements" in result.stderr
