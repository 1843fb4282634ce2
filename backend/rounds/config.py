"""What a round is asked to do: one typed config shared by the Train page and `socratic-studio round`."""

from typing import ClassVar, Self

from pydantic import Field, model_validator

from backend.run_config import RunConfig
from backend.training.config import FilterPolicy, TrainConfig

# The policies a round can keep its samples under (SCoTD, section 3): `all` would keep wrong samples.
KEEP_POLICIES = (FilterPolicy.one_correct_per_question, FilterPolicy.all_correct, FilterPolicy.balanced)
MAX_SAMPLES = 64  # SCoTD drew 30 per question; more only multiplies the sampling time


class RoundConfig(RunConfig):
    title: ClassVar[str] = "round settings"

    student: str = Field(
        default="", description="the CoT student (checkpoint id or name) that samples, and that the next "
        "student is compared with; it samples the questions of the set it was trained on",
    )  # fmt: skip
    samples: int = Field(default=4, description="rationales sampled per training question (k)")
    questions: int | None = Field(
        default=None,
        description="sample only this many of the set's questions, drawn at random with the seed (empty: "
        "all); sampling costs k generations a question, so a large set's round can start from part of it",
    )
    temperature: float = Field(default=0.7, description="sampling temperature (0 only with 1 sample)")
    rationalize: bool = Field(
        default=False,
        description="questions with no correct sample are sampled again with the gold answer as a hint "
        "(STaR's rationalization); the kept rationale is trained without the hint",
    )
    distinct: bool = Field(
        default=False,
        description="keep a correct sample only if it reasons otherwise than its question's rationales in "
        "the set and its other kept samples (RFT's distinct reasoning paths): a student that learned its "
        "set by heart writes it back, and copies weigh a question more without adding a way to solve it",
    )
    keep: FilterPolicy = Field(
        default=FilterPolicy.all_correct,
        description="one_correct_per_question: the first correct sample of each question joins the set; "
        "all_correct: every correct sample does; balanced: every correct sample does, and training sees "
        "each question once per epoch with one of its correct rationales drawn afresh",
    )
    eval_dataset: str = Field(default="", description="dataset both students are evaluated on (name)")
    eval_split: str | None = Field(default=None, description="only its problems of this split")
    eval_limit: int | None = Field(default=None, description="at most this many problems (in id order)")
    epochs: float = Field(default=TrainConfig.default("epochs"), description="passes over the new set")
    learning_rate: float = Field(default=TrainConfig.default("learning_rate"), description="peak rate")
    batch_size: int = Field(default=TrainConfig.default("batch_size"), description="examples per step")
    seed: int = Field(default=0, description="sampling and training seed")

    @model_validator(mode="after")
    def _check(self) -> Self:
        checks = [
            (bool(self.student.strip()), "choose the student that samples (a checkpoint id or name)"),
            (1 <= self.samples <= MAX_SAMPLES, f"samples must be 1..{MAX_SAMPLES}, got {self.samples}"),
            (
                self.questions is None or self.questions >= 1,
                f"questions must be >= 1 (or empty for all), got {self.questions}",
            ),
            (0 <= self.temperature <= 2, f"temperature must be 0..2, got {self.temperature}"),
            (self.samples == 1 or self.temperature > 0, "several samples per question need temperature > 0"),
            (self.keep in KEEP_POLICIES, f"keep must be one of {', '.join(KEEP_POLICIES)}, got {self.keep}"),
            (bool(self.eval_dataset.strip()), "choose the dataset both students are evaluated on"),
            (
                self.eval_limit is None or self.eval_limit >= 1,
                f"eval_limit must be >= 1, got {self.eval_limit}",
            ),
            (0 < self.epochs <= 20, f"epochs must be above 0 and at most 20, got {self.epochs}"),
            (self.learning_rate > 0, f"learning_rate must be > 0, got {self.learning_rate}"),
            (1 <= self.batch_size <= 512, f"batch_size must be 1..512, got {self.batch_size}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
        return self
