"""Progress from inside a generate call, and its translation when each prompt was repeated once per
sample (a teacher run with the calculator samples that way)."""

import pytest

from backend.evaluation.generate import WithCalculator
from backend.teacher.base import Completion, GenerationParams
from backend.teacher.batch import BatchProgress, generate_isolated
from backend.teacher.progress import GenerationProgress, listening, regrouped, report
from tests.backend.evaluation.scripted import RevisingScriptedBackend


def test_a_repeated_prompt_is_done_when_all_its_copies_are() -> None:
    heard: list[GenerationProgress] = []
    with listening(heard.append), regrouped(2):
        report(GenerationProgress(sequences=6, finished=3, tokens_out=9, prompts_done=[0, 3, 1]))
    assert heard == [GenerationProgress(sequences=6, finished=3, tokens_out=9, prompts_done=[0])]


class ReportingBackend(RevisingScriptedBackend):
    """Reports each finished row, as the refilling loop does."""

    def generate_revising(self, prompts: list[str], params: GenerationParams, revise) -> list[Completion]:  # type: ignore[no-untyped-def]
        done: list[int] = []

        def revise_and_report(index: int, written: str, tokens: int, hit: bool) -> str | None:
            text = revise(index, written, tokens, hit)
            if text is None:
                done.append(index)
                report(GenerationProgress(len(prompts), len(done), 0, list(done)))
            return text

        return super().generate_revising(prompts, params, revise_and_report)


def test_a_calculator_teacher_batch_with_several_samples_reports_problems_and_stays_one_call(
    capsys: pytest.CaptureFixture[str],
) -> None:
    backend = ReportingBackend(lambda prompt: " 3 * 5 = <<3*5=15>>15 pens.")
    heard: list[BatchProgress] = []
    failures: dict[int, str] = {}
    outputs = generate_isolated(WithCalculator(backend), {10: ["A1:"], 11: ["B1:"]}, GenerationParams(n=2),
                                failures, heard.append)  # fmt: skip
    assert not failures and [len(prompts[0]) for prompts in outputs.values()] == [2, 2]
    assert "one by one" not in capsys.readouterr().err  # the batch was not split after a failure
    assert [progress.problems_done for progress in heard] == [0, 1, 1, 2]
