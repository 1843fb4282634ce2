"""Step-through latency: time from a Next step click to the first token on the page, with warm
SmolLM2-size models, through the model worker (streamed) beside the old in-process path (the page showed
nothing until the whole sub-question was written).

Run (2-core CPU):
    OMP_NUM_THREADS=1 .venv/bin/python bench/stepthrough_latency.py --repeats 3

Both paths use the embedded SmolLM2-135M-Instruct as decomposer and solver (the size of the students the
demo chain trains; weights do not change the timing) on reasoning-gym gsm_symbolic questions, greedy.
A warm-up step loads the model first (worker: started and loaded; in-process: loaded), so the figures
are warm ones. "first text" is what the page can show first; "sub-question" is the whole first line.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import reasoning_gym

from backend.evaluation import stepthrough
from backend.evaluation.stepthrough import StepSession
from backend.model_ref import model_path
from backend.model_worker.client import WorkerClient
from backend.model_worker.protocol import ModelLoad
from backend.teacher.transformers_backend import TransformersBackend
from db.settings import Settings

SPEC = {"checkpoint_id": 0}  # only carried in the state; the worker gets the ModelLoad


def questions(count: int) -> list[str]:
    data = reasoning_gym.create_dataset("gsm_symbolic", size=count + 1, seed=7)
    return [str(item["question"]) for item in data]


def worker_step(client: WorkerClient, load: ModelLoad, question: str) -> tuple[float, float]:
    """(seconds to the first text event, seconds to the whole sub-question) for one Next step."""
    state = StepSession(question=question, decomposer=SPEC, solver=SPEC).to_json()
    started = time.perf_counter()
    first = asked = float("nan")
    for event in client.step(state, load, load):
        now = time.perf_counter() - started
        if event["event"] == "text" and first != first:
            first = now
        if event["event"] == "asked":
            asked = now
            break  # the answer is not part of this figure
    return first, asked


def in_process_step(model: TransformersBackend, question: str) -> float:
    """The old path: the page got the sub-question only when the decomposer had written all of it."""
    state = StepSession(question=question, decomposer=SPEC, solver=SPEC)
    started = time.perf_counter()
    stepthrough.ask_next(state, model)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = model_path("default")
    texts = questions(args.repeats)
    home = Path(tempfile.mkdtemp(prefix="stepthrough-bench-"))
    client = WorkerClient(Settings(home=home).model_dump_json(), log_path=home / "worker.log")
    load = ModelLoad("transformers", folder)
    try:
        started = time.perf_counter()
        worker_step(client, load, texts[-1])  # cold: start the worker and load the model
        cold = time.perf_counter() - started
        warm = [worker_step(client, load, question) for question in texts[: args.repeats]]
    finally:
        client.stop()
    model = TransformersBackend(folder)
    in_process_step(model, texts[-1])  # warm-up
    old = [in_process_step(model, question) for question in texts[: args.repeats]]
    print(f"worker cold start + load + first sub-question: {cold:.1f} s")
    print("| path | first text on the page (median) | whole sub-question (median) |")
    print("|---|---|---|")
    print(f"| model worker, streamed | {statistics.median(w[0] for w in warm):.2f} s | "
          f"{statistics.median(w[1] for w in warm):.2f} s |")  # fmt: skip
    old_median = statistics.median(old)
    print(f"| old: in the web process, whole line | {old_median:.2f} s | {old_median:.2f} s |")
    print("per step (worker first text, worker sub-question, old):")
    for (first, asked), before in zip(warm, old, strict=True):
        print(f"  {first:.2f} s, {asked:.2f} s, {before:.2f} s")


if __name__ == "__main__":
    main()
