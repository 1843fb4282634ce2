"""OpenAI-compatible backend against a real HTTP server on loopback (stdlib http.server in a thread):
retries with back-off on 429 and 5xx, no retry on 400, timeouts, bounded concurrency, the key from the env."""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from backend.teacher.base import GenerationParams
from backend.teacher.openai_backend import OpenAIBackend
from tests.backend.teacher.conftest import Configure


@dataclass
class Script:
    """What the server answers: statuses to return first (then 200), a delay, and what it saw."""

    statuses: list[int] = field(default_factory=list)
    delay_s: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def completion_body(request: dict[str, Any], chat: bool) -> dict[str, Any]:
    words = ["Step", " one", ".", " So the answer is: 4"]
    choices = []
    for index in range(request.get("n", 1)):
        if chat:
            logprobs = {
                "content": [{"token": w, "logprob": -0.5, "bytes": None, "top_logprobs": []} for w in words]
            }
            message = {"role": "assistant", "content": "".join(words) + f" #{index}"}
            choices.append(
                {"index": index, "message": message, "finish_reason": "stop", "logprobs": logprobs}
            )
        else:
            logprobs = {
                "tokens": words,
                "token_logprobs": [-0.5] * 4,
                "top_logprobs": None,
                "text_offset": [0] * 4,
            }
            choices.append(
                {
                    "index": index,
                    "text": "".join(words) + f" #{index}",
                    "finish_reason": "stop",
                    "logprobs": logprobs,
                }
            )
    usage = {"prompt_tokens": 7, "completion_tokens": 4 * len(choices), "total_tokens": 7 + 4 * len(choices)}
    kind = "chat.completion" if chat else "text_completion"
    return {
        "id": "x",
        "object": kind,
        "created": 0,
        "model": request["model"],
        "choices": choices,
        "usage": usage,
    }


def make_handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with script.lock:
                script.requests.append(request)
                script.headers.append({key.lower(): value for key, value in self.headers.items()})
                status = script.statuses.pop(0) if script.statuses else 200
                script.in_flight += 1
                script.max_in_flight = max(script.max_in_flight, script.in_flight)
            time.sleep(script.delay_s)
            with script.lock:
                script.in_flight -= 1
            body = (
                completion_body(request, self.path.endswith("/chat/completions"))
                if status == 200
                else {"error": {"message": f"status {status}", "type": "server_error"}}
            )
            payload = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    httpd.shutdown()
    httpd.server_close()


PARAMS = GenerationParams(n=2, temperature=0.7, max_tokens=16, stop=["\n\n"], seed=3)


def test_completions_request_and_parsed_results(
    server: tuple[str, Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, script = server
    monkeypatch.setenv("TEACHER_KEY", "sk-test-123")
    backend = OpenAIBackend("smol", base_url=url, api_key_env="TEACHER_KEY")
    [samples] = backend.generate(["Q: 2+2?\nA:"], PARAMS)
    assert [sample.text for sample in samples] == [
        "Step one. So the answer is: 4 #0",
        "Step one. So the answer is: 4 #1",
    ]
    assert (samples[0].tokens_in, samples[0].tokens_out, samples[0].logprob) == (7, 4, -2.0)
    request = script.requests[0]
    assert (request["model"], request["prompt"], request["n"], request["stop"], request["seed"]) == (
        "smol",
        "Q: 2+2?\nA:",
        2,
        ["\n\n"],
        3,
    )
    assert request["logprobs"] == 1 and request["temperature"] == 0.7
    assert script.headers[0]["authorization"] == "Bearer sk-test-123"


def test_chat_endpoint_sends_one_user_message(server: tuple[str, Script]) -> None:
    url, script = server
    backend = OpenAIBackend("smol", base_url=url, endpoint="chat")
    [samples] = backend.generate(["2+2?"], PARAMS)
    assert script.requests[0]["messages"] == [{"role": "user", "content": "2+2?"}]
    assert samples[1].text.endswith("#1") and samples[1].logprob == -2.0


def test_429_is_retried_after_a_back_off(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [429]
    started = time.perf_counter()
    [samples] = OpenAIBackend("smol", base_url=url).generate(["p"], PARAMS)
    assert len(script.requests) == 2 and samples[0].error is None
    assert time.perf_counter() - started >= 0.3  # exponential back-off starts near 0.5 s (minus jitter)


def test_server_errors_are_retried_then_recorded_without_losing_other_prompts(
    server: tuple[str, Script],
) -> None:
    url, script = server
    script.statuses = [503, 503, 503]
    backend = OpenAIBackend("smol", base_url=url, max_retries=2, concurrency=1)
    failed, fine = backend.generate(["first", "second"], PARAMS)
    assert len(script.requests) == 4  # 1 + 2 retries for the first prompt, 1 for the second
    assert all(sample.error and "503" in sample.error for sample in failed)
    assert [sample.error for sample in fine] == [None, None]


def test_bad_request_is_not_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.statuses = [400]
    [samples] = OpenAIBackend("smol", base_url=url).generate(["p"], PARAMS)
    assert len(script.requests) == 1
    assert samples[0].error and samples[0].error.startswith("BadRequestError")


def test_timeout_is_recorded(server: tuple[str, Script]) -> None:
    url, script = server
    script.delay_s = 1.5
    [samples] = OpenAIBackend("smol", base_url=url, timeout=0.3, max_retries=0).generate(["p"], PARAMS)
    assert samples[0].error and "Timeout" in samples[0].error


def test_concurrency_is_bounded(server: tuple[str, Script]) -> None:
    url, script = server
    script.delay_s = 0.2
    results = OpenAIBackend("smol", base_url=url, concurrency=3).generate([f"p{i}" for i in range(9)], PARAMS)
    assert (
        len(results) == 9 and [script_prompt["prompt"] for script_prompt in script.requests].count("p8") == 1
    )
    assert 2 <= script.max_in_flight <= 3


def test_hosted_api_without_a_key_names_the_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISSING_TEACHER_KEY", raising=False)
    with pytest.raises(ValueError, match="MISSING_TEACHER_KEY"):
        OpenAIBackend("gpt", api_key_env="MISSING_TEACHER_KEY")


def test_more_than_four_stop_strings_are_refused(server: tuple[str, Script]) -> None:
    url, _ = server
    with pytest.raises(ValueError, match="at most 4 stop strings"):
        OpenAIBackend("smol", base_url=url).generate(["p"], GenerationParams(stop=list("abcde")))


def test_a_run_through_the_server_never_stores_the_api_key(
    server: tuple[str, Script],
    engine: Any,
    session: Any,
    monkeypatch: pytest.MonkeyPatch,
    configure_endpoints: Configure,
) -> None:
    from sqlalchemy import inspect, text

    from backend.jobs.runner import run_job
    from backend.teacher.job import GenerationConfig, start_generation
    from tests.factories import make_dataset, make_problem

    url, script = server
    monkeypatch.setenv("STUDIO_TEACHER_KEY", "sk-very-secret-999")
    endpoint = {"name": "lab", "base_url": url, "model": "smol", "api_key_env": "STUDIO_TEACHER_KEY"}
    configure_endpoints([endpoint])
    dataset = make_dataset(session, name="toy")
    make_problem(session, dataset, gold_answer="4")
    config = GenerationConfig(
        backend="openai", model="lab", dataset="toy", samples=2, backend_options={"concurrency": 2}
    )
    job = start_generation(session, config=config)
    assert run_job(engine, job.id) == "succeeded"
    assert script.headers[0]["authorization"] == "Bearer sk-very-secret-999"
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            dump = repr(connection.execute(text(f'SELECT * FROM "{table}"')).fetchall())
            assert "sk-very-secret" not in dump, table
        verdicts = connection.execute(text("SELECT verdict, final_answer FROM rationale")).fetchall()
    assert verdicts == [("correct", "4"), ("correct", "4")]
