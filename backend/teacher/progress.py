"""Progress from inside one `generate` call, so a long batch shows movement (tokens, finished sequences)
instead of a counter frozen until its slowest sample ends.

Whoever wants it (the generation job) listens around the call; a backend that can tell reports:

    with listening(lambda progress: print(progress.tokens_out)):
        backend.generate(prompts, params)

A context variable rather than a `generate` argument keeps the backend interface one signature for
every backend and caller (evaluation, step-through); a backend that cannot report (an HTTP server)
simply never calls `report`. Nothing here imports torch.
"""

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class GenerationProgress:
    sequences: int  # sequences this call generates (prompts x samples; greedy: one per prompt)
    finished: int = 0
    tokens_out: int = 0
    # Prompts (indices in the call) whose every sample has finished, in the order they finished;
    # left empty by a backend that only knows counts.
    prompts_done: list[int] = field(default_factory=list)


Listener = Callable[[GenerationProgress], None]
_listener: ContextVar[Listener | None] = ContextVar("generation_progress_listener", default=None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every progress report made inside the block to `listener`."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def report(progress: GenerationProgress) -> None:
    """Called by backends as work completes; does nothing when nobody listens."""
    listener = _listener.get()
    if listener is not None:
        listener(progress)


@contextmanager
def regrouped(copies: int) -> Iterator[None]:
    """Inside the block, reports about a call whose prompts were each repeated `copies` times in a row
    (one row per sample) reach the listener outside as reports about the original prompts: prompt i is
    done when all its copies are. Without it, a copy's index (up to copies x prompts) would be taken
    for a prompt's."""
    outer = _listener.get()
    if outer is None or copies == 1:
        yield
        return

    def translate(progress: GenerationProgress) -> None:
        finished: Counter[int] = Counter()
        done = []
        for index in progress.prompts_done:
            finished[index // copies] += 1
            if finished[index // copies] == copies:
                done.append(index // copies)
        outer(GenerationProgress(progress.sequences, progress.finished, progress.tokens_out, done))

    with listening(translate):
        yield
