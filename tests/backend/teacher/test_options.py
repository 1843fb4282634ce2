"""The typed allow-list of backend options: what a user may set, checked and coerced, and everything else
refused with a message that names the option."""

import pytest

from backend.teacher.options import check_options


def test_allowed_options_are_checked_and_coerced() -> None:
    assert check_options("vllm", {"dtype": "bfloat16", "max_model_len": 4096.0, "kv_cache_gib": 2}) == {
        "dtype": "bfloat16",
        "max_model_len": 4096,
        "kv_cache_gib": 2.0,
    }
    assert check_options("transformers", {"batch_size": 4, "chat": True}) == {"batch_size": 4, "chat": True}
    assert check_options("transformers", {"stop_loops": False}) == {"stop_loops": False}
    assert check_options("openai", {"concurrency": 8, "timeout": 30}) == {"concurrency": 8, "timeout": 30.0}


@pytest.mark.parametrize(
    ("backend", "options", "message"),
    [
        ("vllm", {"trust_remote_code": True}, "'trust_remote_code' is not allowed: it would run code"),
        ("vllm", {"trust_remote_code": False}, "'trust_remote_code' is not allowed"),
        ("vllm", {"engine_options": {}}, "'engine_options' is not allowed"),
        (
            "openai",
            {"base_url": "http://x/v1"},
            "'base_url' is not allowed: teacher endpoints are configured",
        ),
        ("openai", {"api_key_env": "DATABASE_URL"}, "'api_key_env' is not allowed"),
        ("openai", {"api_key": "sk-1"}, "'api_key' is not allowed: a key is never stored"),
        ("transformers", {"base_url": "http://x/v1"}, "'base_url' is not allowed"),
        ("vllm", {"tokenizer": "/etc"}, "unknown backend option 'tokenizer' for vllm; allowed: chat, dtype"),
        ("vllm", {"max_model_len": 10**9}, "'max_model_len' must be between 64 and 131072"),
        ("vllm", {"max_model_len": 100.5}, "'max_model_len' must be a whole number"),
        ("vllm", {"max_model_len": "4096"}, "'max_model_len' must be a number"),
        ("vllm", {"dtype": "float8"}, "'dtype' must be one of auto, float32, bfloat16, float16"),
        ("openai", {"chat": "yes"}, "'chat' must be true or false"),
        ("transformers", {"stop_loops": "no"}, "'stop_loops' must be true or false"),
        ("openai", {"concurrency": True}, "'concurrency' must be a number"),
        ("llamacpp", {}, "unknown teacher backend 'llamacpp'"),
    ],
)
def test_anything_else_is_refused_naming_the_option(backend: str, options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        check_options(backend, options)


def test_a_free_endpoint_only_when_the_caller_owns_the_machine() -> None:
    options = {"base_url": " http://127.0.0.1:8000/v1 ", "api_key_env": "LOCAL_KEY"}
    assert check_options("openai", options, free_endpoint=True) == {
        "base_url": "http://127.0.0.1:8000/v1",
        "api_key_env": "LOCAL_KEY",
    }
    with pytest.raises(ValueError, match="'base_url' is not allowed"):
        check_options("vllm", options, free_endpoint=True)  # only an openai run has an endpoint
    with pytest.raises(ValueError, match="'trust_remote_code' is not allowed"):
        check_options("openai", {"trust_remote_code": True}, free_endpoint=True)
