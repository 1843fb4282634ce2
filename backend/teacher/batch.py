"""One batch of a teacher run: prompts for each problem, one backend call, parsed and checked drafts.

Nothing here touches the database: the job stores the drafts in one transaction afterwards.
"""

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from backend.rationales import RationaleDraft
from backend.teacher.base import Completion, GenerationParams, TeacherBackend
from backend.teacher.parsing import duplicate_key, parse_output, rationalized_steps
from backend.teacher.progress import GenerationProgress, listening
from backend.teacher.prompts import problem_prompts, reference_steps
from db.models import Problem, TeacherMode, TeacherRun, Verdict

PerPrompt = list[list[Completion]]  # for one problem: per prompt, n completions


@dataclass
class GeneratedBatch:
    drafts: list[tuple[Problem, RationaleDraft]] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass
class BatchProgress:
    """How far the batch's one backend call has got (the page's progress moves within a batch)."""

    problems: int  # problems of the batch
    problems_done: int  # problems whose every sample has been generated (not yet stored)
    sequences: int
    sequences_done: int
    tokens_out: int


BatchListener = Callable[[BatchProgress], None]


def _problem_listener(
    prompts: dict[int, list[str]], listener: BatchListener
) -> Callable[[GenerationProgress], None]:
    """Translate the backend's per-prompt reports into problems done (a rationalize problem has several
    prompts: it is done when all of them are)."""
    owners = [problem_id for problem_id, problem_prompts_ in prompts.items() for _ in problem_prompts_]

    def translate(progress: GenerationProgress) -> None:
        left = {problem_id: len(problem_prompts_) for problem_id, problem_prompts_ in prompts.items()}
        for index in progress.prompts_done:
            left[owners[index]] -= 1
        listener(
            BatchProgress(
                problems=len(prompts),
                problems_done=sum(1 for count in left.values() if count == 0),
                sequences=progress.sequences,
                sequences_done=progress.finished,
                tokens_out=progress.tokens_out,
            )
        )

    return translate


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def _checked(prompts: list[str], outputs: list[list[Completion]], n: int) -> list[list[Completion]]:
    if len(outputs) != len(prompts) or any(len(samples) != n for samples in outputs):
        raise RuntimeError(
            f"backend returned {[len(s) for s in outputs]} completions for {len(prompts)} prompts x {n}"
        )
    return outputs


def generate_isolated(
    teacher: TeacherBackend,
    prompts: dict[int, list[str]],
    params: GenerationParams,
    failures: dict[int, str],
    listener: BatchListener | None = None,
) -> dict[int, PerPrompt]:
    """One backend call for the whole batch; if it fails, each problem alone, so one bad problem
    (too long a prompt, a server error) fails only itself. Failures are added to `failures`.
    `listener` hears the whole-batch call's progress (not the one-by-one fallback's)."""
    flat = [prompt for problem_prompts_ in prompts.values() for prompt in problem_prompts_]
    try:
        with listening(_problem_listener(prompts, listener) if listener else lambda _: None):
            outputs = _checked(flat, teacher.generate(flat, params), params.n) if flat else []
    except Exception as error:
        if len(prompts) == 1:
            failures.update({problem_id: describe_error(error) for problem_id in prompts})
            return {}
        # said in the job's log: problem by problem is many times slower, and no problem's draft shows why
        print(f"the batch of {len(prompts)} problems failed ({describe_error(error)}); "
              "generating them one by one", file=sys.stderr, flush=True)  # fmt: skip
        return _one_by_one(teacher, prompts, params, failures)
    result, start = {}, 0
    for problem_id, problem_prompts_ in prompts.items():
        result[problem_id] = outputs[start : start + len(problem_prompts_)]
        start += len(problem_prompts_)
    return result


def _one_by_one(
    teacher: TeacherBackend, prompts: dict[int, list[str]], params: GenerationParams, failures: dict[int, str]
) -> dict[int, PerPrompt]:
    result = {}
    for problem_id, problem_prompts_ in prompts.items():
        try:
            result[problem_id] = _checked(
                problem_prompts_, teacher.generate(problem_prompts_, params), params.n
            )
        except Exception as error:
            failures[problem_id] = describe_error(error)
    return result


def failed_draft(sample_index: int, error: str, tokens_out: int = 0) -> RationaleDraft:
    return RationaleDraft(
        steps=[],
        final_answer=None,
        verdict=Verdict.failed,
        sample_index=sample_index,
        error=error,
        tokens_out=tokens_out,
    )


def sample_draft(
    mode: TeacherMode,
    problem: Problem,
    completions: Sequence[Completion],
    sample_index: int,
    answer_type: str,
) -> RationaleDraft:
    """Sample `sample_index` of one problem: its completion (one per reference step for rationalize)."""
    tokens_out = sum(completion.tokens_out for completion in completions)
    errors = [completion.error for completion in completions if completion.error]
    if errors:
        return failed_draft(sample_index, errors[0], tokens_out)
    texts = [completion.text for completion in completions]
    gold = problem.gold_answer or problem.gold_answer_raw or None
    if mode == TeacherMode.rationalize:
        parsed = rationalized_steps(reference_steps(problem), texts, gold=gold, answer_type=answer_type)
    else:
        parsed = parse_output(mode, texts[0], gold=gold, answer_type=answer_type)
    logprobs = [completion.logprob for completion in completions]
    return RationaleDraft(
        steps=parsed.steps,
        final_answer=parsed.final_answer,
        raw_text="\n".join(texts),  # rationalize: one generated line per reference step
        verdict=parsed.verdict,
        sample_index=sample_index,
        logprob=None if None in logprobs else sum(lp for lp in logprobs if lp is not None),
        tokens_out=tokens_out,
    )


def mark_duplicates(drafts: Sequence[RationaleDraft], previous_texts: Sequence[str]) -> None:
    """A sample repeating (up to case and spacing) an earlier sample of the same problem in the run."""
    seen = {duplicate_key(text) for text in previous_texts}
    for draft in drafts:
        if draft.verdict == Verdict.failed:
            continue
        key = duplicate_key(draft.raw_text)
        draft.is_duplicate = key in seen
        seen.add(key)


def generate_batch(
    teacher: TeacherBackend,
    run: TeacherRun,
    params: GenerationParams,
    problems: Sequence[Problem],
    answer_types: dict[int, str],
    previous_texts: dict[int, list[str]],
    listener: BatchListener | None = None,
) -> GeneratedBatch:
    """Generate, parse and check `params.n` samples for each problem (failures become failed drafts)."""
    mode = TeacherMode(run.mode)
    prompts: dict[int, list[str]] = {}
    failures: dict[int, str] = {}
    for problem in problems:
        assert problem.id is not None
        try:
            prompts[problem.id] = problem_prompts(
                mode, problem, template=run.prompt_template, few_shot=run.few_shot, show_gold=run.show_gold
            )
        except ValueError as error:
            failures[problem.id] = str(error)
    outputs = generate_isolated(teacher, prompts, params, failures, listener)
    batch = GeneratedBatch()
    for problem in problems:
        assert problem.id is not None
        if problem.id in failures:
            drafts = [failed_draft(k, failures[problem.id]) for k in range(params.n)]
        else:
            per_prompt = outputs[problem.id]
            batch.tokens_in += sum(samples[0].tokens_in for samples in per_prompt)  # a prompt is read once
            answer_type = answer_types.get(problem.dataset_id, "numeric")
            drafts = [
                sample_draft(mode, problem, [samples[k] for samples in per_prompt], k, answer_type)
                for k in range(params.n)
            ]
            mark_duplicates(drafts, previous_texts.get(problem.id, []))
        batch.tokens_out += sum(draft.tokens_out for draft in drafts)
        batch.drafts.extend((problem, draft) for draft in drafts)
    return batch
