"""Every user-visible string of the web app, in one place (labels, help, messages)."""

APP_TITLE = "Socratic Studio"
APP_SUBTITLE = (
    "Teacher rationales -> annotation -> frozen sets -> Socratic students -> step-through and failures"
)
SIGNED_IN_AS = "Signed in as **{user}** ({role})"
LOCAL_USER_NOTE = "Local mode: you act as **{user}** ({role}); set SOCRATIC_AUTH=1 to require login."
LOGOUT = "Log out"
LOGIN_MESSAGE = "Socratic Studio: log in with the account an admin created (socratic-studio users add)."
ERROR_TITLE = "Cannot do that"
PERMISSION_TITLE = "Not allowed"
ANY = "(any)"
REFRESH = "Refresh"
NONE_YET = "Nothing here yet."

TAB_EXPLORE = "Explore"
TAB_ANNOTATE = "Annotate"
TAB_CURATE = "Curate"
TAB_GENERATE = "Generate"
TAB_TRAIN = "Train"
TAB_STEPTHROUGH = "Step through"
TAB_FAILURES = "Failures"


class Filter:
    TITLE = "Filter"
    DATASET = "Dataset"
    SPLIT = "Split"
    RUN = "Teacher run"
    SOURCE = "Source"
    VERDICT = "Answer check"
    REVIEW = "Review status"
    REVIEWER = "Last reviewer"
    ASSIGNED = "Assigned to"
    MIN_STEPS = "Min steps"
    MAX_STEPS = "Max steps (0: no limit)"
    SEARCH = "Question contains"
    SEARCH_PLACEHOLDER = "text search in the question"
    QUEUE = "Annotation queue"
    APPLY = "Apply filter"
    BAD_STEPS = "min steps ({low}) is larger than max steps ({high})"


class Jobs:
    TABLE = "Jobs (updated every 2 s; shared by every tab and user)"
    HEADERS = ["id", "kind", "status", "progress", "message", "created"]
    JOB_ID = "Job id"
    CANCEL = "Cancel job"
    RESUME = "Resume job"
    CANCELLED = "Cancel requested for job {job_id} ({status})."
    RESUMED = "Job {job_id} resumed: its worker skips what is already stored."
    STARTED = "Started job {job_id}; progress appears below and survives reloads."
    NO_JOB = "Pick a job id first."
    LOG = "Error / log tail of the selected job"
    NO_JOBS = "No jobs yet: start one above; it shows here while it runs and after it ends."
    TABLE_HINT = "click a job to see its log and cancel or resume it"


class Curate:
    INTRO = (
        "Build a set from a filter and manual picks, preview it, create it, then **freeze** it: freezing "
        "pins the exact revision of every item, and a frozen set never changes. Training and export read "
        "frozen sets."
    )
    PICKS = "Manual picks (rationale ids, comma or space separated)"
    USE_FILTER = "Include every rationale matching the filter"
    PREVIEW = "Preview"
    PREVIEW_SUMMARY = "**{total}** rationales selected."
    MISSING_PICKS = "These picked ids do not exist: {ids}"
    NAME = "Set name"
    DESCRIPTION = "Description"
    CREATE = "Create set"
    CREATED = "Created set {name!r} with {size} rationales (not frozen yet)."
    SETS = "Sets"
    SET = "Set"
    SET_HEADERS = ["id", "name", "items", "state", "created", "description"]
    FREEZE = "Freeze set"
    FROZEN = "Froze set {name!r}: {size} items pinned to their current revisions."
    EXPORT_TITLE = "Export a frozen set, or everything the filter matches"
    EXPORT_FROM = "Export from"
    EXPORT_FROM_CHOICES = [("the frozen set", "set"), ("the filter above (current revisions)", "filter")]
    FORMAT_HELP = "processbench and prm800k export annotators' step ratings (the student kind is not used)"
    SET_PREVIEW = "Set '{name}' ({state}): **{total}** rationales."
    NO_SETS = "No sets yet: preview a selection above, name it and press Create set."
    NO_FROZEN_SETS = (
        "No frozen set yet: pick a set and press Freeze set (export and training read frozen sets)."
    )
    NO_SAMPLE = "Nothing selected yet: set a filter or type rationale ids, then press Preview."
    KIND = "Student kind (training format)"
    FORMAT = "Format"
    OUT = "Output path (relative to the export folder)"
    EXPORT = "Export"
    NO_SET = "Pick a set first."
    BAD_PICK = "manual picks must be rationale ids (numbers); got {value!r}"
    EMPTY_SELECTION = "Set a filter or pick some rationales first."
    SAMPLE = "First selected rationales"
    SAMPLE_HEADERS = ["id", "question", "final_answer", "verdict", "review", "steps"]
    CHART_VERDICT = "Answer check"
    CHART_DATASET = "By dataset"
    CHART_STEPS = "Steps per rationale"


class Explore:
    INTRO = (
        "Every rationale with its problem, teacher run and review state. Filter, sort and page on the server."
    )
    SORT = "Sort by"
    SORTS = [
        ("id", "id"),
        ("number of steps", "num_steps"),
        ("answer check", "verdict"),
        ("review status", "review_status"),
        ("created", "created_at"),
    ]
    DESCENDING = "Descending"
    PAGE = "Page"
    PAGE_SIZE = "Rows per page"
    PREVIOUS = "< Previous"
    NEXT = "Next >"
    SUMMARY = "{total} matching rationales; page {page} of {pages}."
    HEADERS = [
        "id",
        "dataset",
        "split",
        "run",
        "question",
        "final_answer",
        "gold",
        "verdict",
        "review_status",
        "annotator",
        "num_steps",
    ]
    TABLE = "Rationales: click a row to open it in Annotate"
    NO_ROWS = (
        "No rationale matches: clear the filter, or add some (Generate tab, or `socratic-studio import`)."
    )
    RUNS_TITLE = "Datasets and teacher runs"
    RUNS_HINT = "click a row to show its rationales in the table above"
    NO_RUNS = "No datasets yet: import one (`socratic-studio import`) or start a teacher run (Generate tab)."
    RUN_HEADERS = [
        "dataset_id", "dataset", "run_id", "run", "total", "correct", "wrong", "unparseable", "other",
        "accuracy",
    ]  # fmt: skip
    CHARTS = "Charts"
    CHART_ACCURACY = "Teacher accuracy by dataset and run"
    CHART_STEPS = "Steps per rationale (filtered), by answer check"
    CHART_REVIEW = "Review progress by dataset"
    CHART_AGREEMENT = "Agreement between annotators (Cohen's kappa)"
    CHART_PER_HOUR = "Reviews per hour of review time, per annotator"
    EMPTY_ACCURACY = "No answer-checked rationales yet: start a teacher run in the Generate tab."
    EMPTY_STEPS = "No rationale matches the filter: clear it, or generate rationales in the Generate tab."
    EMPTY_REVIEW = "No rationales yet: import a dataset or start a teacher run, then review them in Annotate."
    EMPTY_AGREEMENT = (
        "No overlapping reviews yet: agreement needs two annotators to review the same rationale "
        "(an admin can assign the same items to both)."
    )
    EMPTY_PER_HOUR = "No timed reviews yet: reviews made in the Annotate tab record the time they took."
    AGREEMENT = "Agreement table"
    AGREEMENT_HEADERS = ["annotator_a", "annotator_b", "n", "percent_agreement", "kappa"]


class Annotate:
    QUEUE = "Queue"
    MODE = "Queue"
    PREVIOUS = "< Previous (p)"
    NEXT = "Next (n) >"
    OPEN_ID = "Rationale id"
    OPEN = "Open"
    AUTO_ADVANCE = "Go to the next item after a review"
    INFO = (
        "**Rationale #{id}** · dataset {dataset} · split {split} · source {source} · "
        "answer check **{verdict}** · status **{status}** · revision {revision} · version {version}{assigned}"
    )
    ASSIGNED = " · assigned to {user}"
    QUESTION = "Problem"
    GOLD = "Gold answer"
    GOLD_SOLUTION = "Gold solution"
    STEPS = "Edit steps: double-click a cell (or press e on a step), Enter keeps it, Esc goes back to rating"
    EDIT_STEPS = "Edit steps (e)"
    STEP_HEADERS = ["sub_question", "text"]
    RATINGS = "Rate each step"
    RATING_HELP = "j/k or arrows: move · 1: +1 · 0: 0 · -: \u22121 · t: step tags · e: edit · ?: all keys"
    RATING_TITLES = {1: "+1 correct and useful", 0: "0 correct but no progress", -1: "\u22121 wrong"}
    NOTHING_OPEN_PANEL = (
        "No rationale open yet: press n (or Next) for the first one in the queue, or click a row in Explore."
    )
    NO_STEPS = "This rationale has no steps to rate: add one under Edit steps, or open another rationale."
    STOP_AT_ERROR = "Stop at the first error (steps after the first \u22121 are not labelled)"
    BAD_LABELS = "the step ratings sent by the page are not valid; reload the page and rate again"
    BAD_RATING = "step {number}: a rating must be +1, 0 or -1, not {value!r}"
    BAD_STEP_TAGS = "step {number}: unknown or malformed error tags"
    LABELS_STEP_COUNT = (
        "ratings were sent for more than the {count} steps being reviewed: save the edited steps first "
        "(Save edit), then rate them"
    )
    STEP_NUMBER = "Step #"
    ADD_STEP = "Add step after #"
    REMOVE_STEP = "Remove step #"
    MOVE_UP = "Move #  up"
    MOVE_DOWN = "Move # down"
    CHECKS = "Calculator checks"
    CHECK_HEADERS = ["step", "expression", "claimed", "computed", "ok", "value"]
    FINAL_ANSWER = "Final answer"
    TAGS = "Error tags"
    COMMENT = "Comment (kept with the revision and the review)"
    SAVE = "Save edit"
    ACCEPT = "Accept (a)"
    REJECT = "Reject (r)"
    FLAG = "Flag (f)"
    SAVED = "Saved rationale #{id} as revision {revision}."
    UNCHANGED = "Nothing to save: the steps and final answer are unchanged."
    REVIEWED = (
        "Recorded {verdict} for rationale #{id} (revision {revision}); first wrong step: {first_wrong}."
    )
    NO_WRONG_STEP = "none"
    END_OF_QUEUE = "No more items in this direction of the queue."
    EMPTY_QUEUE = "The queue is empty for this mode and filter."
    NOTHING_OPEN = "Open a rationale first (Next, or type an id)."
    BAD_STEP_NUMBER = "there is no step {number}; the rationale has {count} steps"
    CONFLICT_TITLE = "Someone else changed this rationale. Your text is still in the editor above."
    CONFLICT_THEIRS = "Their current steps"
    CONFLICT_DIFF = "Stored text -> your text"
    KEEP_MINE = "Save my text over theirs"
    LOAD_THEIRS = "Discard mine and load theirs"
    HISTORY = "History"
    REVISIONS = "Revisions: click one to compare it and to pick it for revert"
    REVISION_HEADERS = ["number", "author", "when", "comment", "reverted_from"]
    COMPARE_FROM = "Compare revision"
    COMPARE_TO = "with revision"
    DIFF = "Word diff (- removed, + added)"
    REVERT_TO = "Revert to revision"
    REVERT = "Revert"
    REVERTED = "Reverted rationale #{id} to revision {number} (as new revision {revision})."
    REVIEWS = "Reviews"
    REVIEW_HEADERS = [
        "reviewer", "verdict", "revision", "step_ratings", "first_wrong_step", "error_tags", "step_tags",
        "seconds", "comment", "when",
    ]  # fmt: skip
    NO_REVIEWS = (
        "No reviews of this rationale yet: rate its steps and press a (accept), r (reject) or f (flag)."
    )
    NO_REVISIONS = "No revisions stored yet: the first Save edit creates one."
    GUIDELINES = "Guidelines"
    SHORTCUTS = (
        "**Keys** (never while typing in a field; **?** shows them):\n\n"
        "**j** / **k** or **\u2193** / **\u2191** next / previous step · **1** rate +1 · **0** rate 0 · "
        "**-** rate \u22121 · **t** step tags (then **1**-**8**, **Esc**) · **g** rationale tags · "
        "**e** edit the step · **a** accept · **r** reject · **f** flag · **n** / **p** next / previous "
        "rationale · **s** stop at first error"
    )
    BULK = "Bulk review (admins)"
    BULK_HELP = "Apply one verdict to every rationale the filter above matches. You confirm the count first."
    BULK_VERDICT = "Verdict"
    BULK_PREVIEW = "Review all matching..."
    BULK_CONFIRM_TEXT = "This will **{verdict}** {count} rationales matching the filter. Are you sure?"
    BULK_CONFIRM = "Yes, review them all"
    BULK_CANCEL = "Cancel"
    BULK_DONE = "Bulk {verdict}: {count} rationales reviewed."
    BULK_NONE = "No rationale matches the filter."
    BULK_NOTHING_PENDING = "Press the bulk review button first to see what it would change."


class Train:
    INTRO = (
        "Train a student on a **frozen** set. The run is a job: its progress and loss curve live in the "
        "database, so they survive a page reload or a server restart, and every tab sees them."
    )
    START_TITLE = "Start a training run"
    SET = "Frozen set"
    KIND = "Student kind"
    BASE_MODEL = "Base model ('default' = SmolLM2-135M, or a local folder)"
    NAME = "Run name (optional)"
    EPOCHS = "Epochs"
    MAX_STEPS = "Max steps (-1: use epochs)"
    LEARNING_RATE = "Learning rate"
    BATCH_SIZE = "Batch size"
    MAX_LENGTH = "Max tokens per example"
    LORA = "LoRA adapters"
    LORA_R = "LoRA rank"
    POLICY = "Filter policy (SCoTD)"
    SKIP_FLAGGED = "Don't learn flagged sub-questions (decomposer, unified)"
    DEVICE = "Device"
    COMPILE = "Compile (torch.compile)"
    COMPILE_HINT = "auto: only for runs long enough to pay back a compile of a few minutes"
    START = "Start training"
    STARTED = "Started training run #{run_id} ({name}) as job {job_id}."
    NO_SET = "Pick a frozen set first (Curate tab: create and freeze one)."
    WATCH_TITLE = "Watch a run"
    RUN = "Training run"
    STATUS = "**{name}** · {kind} · job **{status}** · step {done}/{total}{loss}{eta}"
    LOSS = " · loss {loss:.4f}"
    ETA = " · about {eta:.0f} s left"
    NO_RUN = "Pick a training run."
    CURVE = "Training loss"
    HISTORY_TITLE = "Compare runs"
    COMPARE = "Runs to compare"
    DIFF_HEADERS = ["parameter", "differs"]
    EVAL_TITLE = "Evaluate a checkpoint"
    METHOD = "Method"
    DECOMPOSER = "Decomposer (Socratic / Divide-or-Conquer)"
    SOLVER = "Solver / model to evaluate"
    MODEL_HINT = "A checkpoint, or type BACKEND:MODEL (e.g. transformers:default)"
    DATASET = "Dataset"
    SPLIT = "Split"
    LIMIT = "Problems (0: all)"
    EVAL_START = "Start evaluation"
    EVAL_STARTED = (
        "Started evaluation #{run_id} ({name}) as job {job_id}; see its failures in the Failures tab."
    )
    EVAL_RUNS = "Evaluation runs"
    # seen_in_training: problems the evaluated students were trained on, numbers and names aside
    # (backend.evaluation.contamination); clean_accuracy: accuracy on the others.
    EVAL_HEADERS = ["id", "name", "method", "status", "problems", "correct", "accuracy",
                    "seen_in_training", "clean_accuracy"]  # fmt: skip


class Round:
    TITLE = "Improve a student by rounds"
    INTRO = (
        "A **round** makes a CoT student better with its own writing (SCoTD, STaR): it samples each question "
        "of the set it was trained on *k* times (a large set: a random part of its questions, *Questions "
        "sampled*, as each costs *k* generations); the samples that reach the gold answer with sound "
        "arithmetic join that set; the next student trains on the union from the same base model; both "
        "students are evaluated on the same problems and compared with an exact McNemar test. Each step is "
        "a job: watch, cancel or resume the round in the jobs panel; a resumed round does not sample again."
    )
    STUDENT = "CoT student that samples"
    SAMPLES = "Samples per question (k)"
    QUESTIONS = "Questions sampled (0: all)"
    TEMPERATURE = "Temperature"
    RATIONALIZE = "Sample unsolved questions again with the gold answer as a hint (STaR)"
    DISTINCT = "Only samples that reason otherwise than the set (drop copies)"
    KEEP = "Keep (SCoTD filter policy)"
    DATASET = "Evaluate on dataset"
    SPLIT = "Split (empty: all)"
    LIMIT = "Problems (0: all)"
    EPOCHS = "Epochs for the next student"
    START = "Start the round"
    STARTED = "Started round job {job_id}: the student samples first; follow it in the jobs panel."
    NO_STUDENT = "Pick the CoT student that samples (train one first)."
    ROUNDS = "Rounds"
    HEADERS = ["job", "student", "k", "keep", "status", "kept and measured"]


class StepThrough:
    INTRO = (
        "Step through a problem one sub-question at a time: the **decomposer** asks the next sub-question, "
        "the **solver** answers it, and both appear token by token as the model worker writes them. Edit "
        "any cell before pressing Next step: the models continue from your version. Each answer is checked: "
        "its arithmetic (calculator) and, for a dataset problem, whether its value is one of the reference "
        "solution's values."
    )
    EMPTY = (
        "**No trained students yet.** A decomposer and a solver trained here would fill this page. Press "
        "**Build the demo students** below: the teacher writes sub-questions for the demo problems, they are "
        "frozen into a set, a decomposer and a solver are trained on it and evaluated on held-out demo "
        "problems (all as jobs you can watch and cancel). Meanwhile the default teacher can step through "
        "(slow, and weak at arithmetic)."
    )
    DATASET = "Dataset"
    PROBLEM = "Problem"
    TYPED = "...or type a question"
    DECOMPOSER = "Decomposer"
    SOLVER = "Solver"
    MODEL_HINT = "A trained student, the default teacher or a configured teacher endpoint"
    VIEWER_MODELS = (
        "viewers step through with the models offered in the list (trained students, the default teacher, "
        "configured endpoints); other models need an annotator"
    )
    REVEAL = "Reveal mode (sub-questions and answers hidden until revealed)"
    PRESENT = "Presenter view (large type, for a projector)"
    START = "Start"
    NEXT = "Next step"
    REVEAL_NEXT = "Reveal next"
    QUESTION = "Problem"
    TRACE = "Student trace (editable)"
    TRACE_HEADERS = ["sub_question", "answer", "check"]
    TEACHER = "Teacher rationale"
    REFERENCE = "Reference solution"
    GOLD = "Gold answer"
    FINAL = "Final answer so far"
    HIDDEN = "(hidden: press Reveal next)"
    HIDDEN_QUESTION = "(next sub-question hidden: let the class propose it, then press Reveal next)"
    LIVE_QUESTION = "Sub-question:"
    LIVE_ANSWER = "Answer:"
    LIVE_HIDDEN = "being written ({chars} characters so far; hidden in reveal mode)"
    SENDING = "Sending the step to the model worker..."
    WAITING = "Waiting for the model ({ahead} ahead)."
    LOADING = "Loading the {role} in the model worker (first use; it stays loaded for the next steps)..."
    THINKING_QUESTION = "The decomposer is writing the next sub-question..."
    THINKING_ANSWER = "The solver is answering: {question}"
    READY = "Step {number} done. Edit anything, then Next step."
    FINISHED = "Finished ({reason}: end marker, repeated answer or step cap). Final answer: {answer}"
    STEP_FAILED = "The step failed: {message}. The trace so far is kept."
    WORKER_GONE = (
        "The model worker stopped during this step ({detail}). The trace so far is kept: press Next step "
        "to restart the worker and continue."
    )
    STARTED = "Ready: press Next step."
    NOT_STARTED = "Press Start first."
    SAVE = "Save trace as a rationale"
    SAVED = (
        "Saved as rationale #{id} (source student, answer check {verdict}); find it in Explore or Annotate."
    )
    EXPORT_MD = "Export Markdown"
    EXPORT_HTML = "Export HTML"
    EXPORT_FILE = "Exported trace"


class Demo:
    BUTTON = "Build the demo students"
    EXPECT = (
        "Trains a demo decomposer and solver here: the teacher writes sub-questions for {train} demo "
        "problems, they are frozen into a set, both students are trained on it and evaluated on {held_out} "
        "held-out problems. **Expect about {minutes} minutes** on a 2-core CPU (less on a GPU)."
    )
    STARTED = (
        "Started the demo chain (job #{id}, about {minutes} minutes). Each step is a job in Train's job "
        "list: watch or cancel it there. When it ends, Step through offers the pair first."
    )
    ALREADY = "A demo chain is already building (one at a time; nothing new was started). "
    QUEUED = "Demo chain #{id} is queued: it starts as soon as a job worker is free."
    RUNNING = (
        "**Building the demo students** (chain #{id}): step {step}{detail}. Running for {elapsed} min of "
        "about {expected}; cancel it from Train's job list."
    )
    STEP_DETAIL = " - {message}"
    DONE = (
        "**The demo students are ready** (chain #{id}, {elapsed} min): {result}. They are picked below: "
        "choose a held-out demo problem and press Start."
    )
    CANCELLED = "Demo chain #{id} was cancelled. Press the button to start again."
    FAILED = "Demo chain #{id} failed: {error} (its step jobs and logs are in Train's job list)."


class Failures:
    INTRO = (
        "An evaluation run's wrong answers: the student's trace beside the reference, the first step whose "
        "value departs from the reference highlighted, the error category, breakdowns, the training "
        "rationales of the same problem, a paired comparison with another run of the same problems, and a "
        "way to send failures to the annotation queue."
    )
    RUN = "Evaluation run"
    DATASET = "Dataset"
    CATEGORY = "Error category"
    CATEGORY_HINT = (
        "truncated: cut by the token budget before an answer; looped: one block written over and over, "
        "ended there; unparseable: no final answer; arithmetic: a wrong equation; too_many_steps; "
        "wrong_first_step; stopped_early: fewer steps than the reference; wrong_final: anything else"
    )
    MIN_STEPS = "Min steps"
    MAX_STEPS = "Max steps (0: no limit)"
    SHOW = "Show failures"
    NO_RUN = "Pick an evaluation run (Train tab: Evaluate a checkpoint)."
    SUMMARY = "Run **{name}** ({method}, {status}): {wrong} wrong of {total} evaluated; showing {shown}."
    HEADERS = ["trace_id", "problem_id", "dataset", "question", "gold", "answer", "steps",
               "first_divergent_step", "error_category", "seen_in_training"]  # fmt: skip
    BY_STEPS = "Right and wrong by number of steps"
    BY_DATASET = "Right and wrong by dataset"
    BY_CATEGORY = "Error categories"
    SELECTED = "Selected trace"
    QUESTION = "Problem"
    GOLD = "Gold answer"
    TRACE = "Student trace (first divergent step highlighted)"
    REFERENCE = "Reference steps"
    DIVERGENT = "first divergent"
    RELATED = (
        "Rationales of the same problem: click one to open it in Annotate "
        "(in_training_set: the students learned from it)"
    )
    RELATED_HEADERS = ["rationale_id", "source", "verdict", "review_status", "steps", "in_training_set"]
    RATIONALE = "Rationale id"
    OPEN = "Open in Annotate"
    SEND_TITLE = "Send to the annotation queue"
    SEND_WHICH = "Which failures"
    SEND_CHOICES = [
        ("the selected one", "selected"),
        ("every failure the filters above match (not only those shown)", "matching"),
    ]
    SEND_WHAT = "Send"
    SEND_WHAT_CHOICES = [
        ("the student's traces, saved as rationales", "traces"),
        ("their training rationales (what the student learned from)", "training"),
    ]
    QUEUE_NAME = "Named queue (new or existing; empty: none)"
    QUEUE_PLACEHOLDER = "e.g. wrong arithmetic at step 2"
    ASSIGNEE = "Assign to (admins only; empty: nobody)"
    FLAG = "Flag them for review"
    SEND = "Send"
    SENT = "Sent {count} rationales of {failures} failures{queue}: {ids}."
    SENT_QUEUE = " to the queue **{name}** (Annotate: filter by this queue)"
    NOTHING_SELECTED = "Click a failure in the table first."
    NONE_MATCH = "No failure of this run matches the filters above."
    NO_EVAL_RUNS = "No evaluation yet: run one from the Train tab (Evaluate a checkpoint)."
    TABLE = "Failures: click a row to see its trace"
    EMPTY_CHART = "Nothing to chart yet: pick an evaluation run and press Show failures."
    NOTHING_SHOWN = "No failures shown yet: pick an evaluation run and press Show failures."
    AGAINST = "Compare with (paired, on the problems both answered)"
    AGAINST_HINT = "e.g. the student this one started from, or a control trained as long"
    NO_AGAINST = "nothing"
    COMPARED = "**{before}** (before) against **{after}** (after), {n} problems both answered: {result}"
    NOT_A_NUMBER = "{value!r} is not a whole number of 0 or more."
    SAME_RUN = "Pick another evaluation run to compare with: this is the run shown."
    NO_SHARED = "**{before}** and **{after}** share no problem: nothing to compare."
    LOST = "Only what it got right"
    LOST_HINT = "failures on problems the compared run answered correctly: what this student lost"
    LOST_NEEDS_RUN = "Pick a run under Compare with first: only its right answers can be kept."
    LOST_SHOWN = "Only the problems **{name}** answered correctly."
    NOT_A_BOX = "{value!r} is not a checkbox value: true or false."
    NO_WRONG = "No wrong answers in this run (or none matching the filters)."
    NO_RELATED = "No rationale of this problem is stored: click a failure above to see its neighbours."


class Generate:
    INTRO = (
        "Start a teacher run: the teacher writes rationales for a dataset's problems. The run is a job: "
        "watch its progress below (from any tab or browser), cancel it, or resume a cancelled or failed run "
        "(samples already stored are skipped)."
    )
    BACKEND = "Backend"
    MODEL = "Model: default, a configured teacher endpoint, a checkpoint, or a folder below the model roots"
    DEFAULT_MODEL = "default (embedded SmolLM2-135M-Instruct)"
    ENDPOINT_MODEL = "teacher endpoint {name} ({model})"
    MODE = "Mode"
    DATASET = "Dataset"
    SPLIT = "Split (empty: all)"
    LIMIT = "Problems (0: all)"
    SAMPLES = "Samples per problem"
    TEMPERATURE = "Temperature"
    SHOW_GOLD = "Show the gold answer in the prompt"
    NAME = "Run name (optional)"
    OPTIONS = (
        'Backend options as JSON, from an allow-list (e.g. {"batch_size": 8}, vLLM {"dtype": "bfloat16", '
        '"max_model_len": 4096}, endpoints {"concurrency": 8})'
    )
    TEMPLATE = "Prompt template ({examples}, {question}, {hint}; {step} for rationalize)"
    PREVIEW = "Preview prompt"
    PREVIEW_LABEL = "The prompt for the dataset's first problem"
    START = "Start generation"
    STARTED = "Started teacher run #{run_id} as job {job_id}."
    NO_DATASET = "Pick a dataset first."
    BAD_OPTIONS = "backend options must be a JSON object: {error}"
    RUNS = "Teacher runs"
    RUN_HEADERS = [
        "id",
        "name",
        "backend",
        "model",
        "mode",
        "samples",
        "rationales",
        "tokens_in",
        "tokens_out",
        "seconds",
    ]


class Team:
    TAB = "Team"
    INTRO = (
        "Admins only: the team's accounts and who did what. Disable an account to stop its logins and open "
        "sessions (enable brings it back); remove one for good (its reviews and edits keep its name). The "
        "last admin who can log in cannot be demoted, disabled or removed. Same as `socratic-studio users`."
    )
    ACCOUNTS = "Accounts"
    ACCOUNT_HEADERS = ["id", "user", "role", "status", "created (UTC)"]
    ACCOUNT = "Account"
    ACCOUNT_CHOICE = "{user} ({role}, {status})"
    ROLE = "Role"
    SET_ROLE = "Set role"
    DISABLE = "Disable"
    ENABLE = "Enable"
    REMOVE = "Remove..."
    REMOVE_CONFIRM_TEXT = "Remove **{user}** for good? They cannot log in again; their work keeps their name."
    REMOVE_CONFIRM = "Remove for good"
    REMOVE_CANCEL = "Keep the account"
    NOTHING_PENDING = "Press Remove first and confirm."
    PASSWORD = "New password (at least 8 characters)"
    SET_PASSWORD = "Reset password"
    NO_ACCOUNT = "Pick an account first."
    ROLE_SET = "{user} is now {role}."
    DISABLED = "{user} is disabled: they cannot log in and their open sessions stop."
    ENABLED = "{user} can log in again."
    REMOVED = "{user} is removed; their reviews and edits keep their name."
    PASSWORD_SET = "New password set for {user}."
    ACTIVITY = "Activity (newest first)"
    ACTIVITY_HEADERS = ["when (UTC)", "user", "action", "detail"]
    ACTIVITY_PAGE = "Page {page} of {pages} ({total} entries)"
    NO_ACTIVITY = "Nothing recorded yet: job starts and cancels, exports, bulk reviews, account changes."
    NEWER = "Newer"
    OLDER = "Older"
