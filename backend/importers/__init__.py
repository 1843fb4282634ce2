"""Dataset importers: GSM8K, SVAMP, StrategyQA, reasoning-gym, any JSONL/CSV table, Hugging Face datasets.

Every import is idempotent (same file again: nothing added), atomic (one bad row: nothing imported, the
error names file, line and field) and fast (bulk inserts). See core.py for the shared rules and limits.
"""

from backend.importers.core import ImportFailure, ImportReport
from backend.importers.gsm8k import import_gsm8k
from backend.importers.hf import import_hf
from backend.importers.reasoning_gym import import_reasoning_gym
from backend.importers.strategyqa import import_strategyqa
from backend.importers.svamp import import_svamp
from backend.importers.table import ColumnMap, import_table

__all__ = [
    "ColumnMap",
    "ImportFailure",
    "ImportReport",
    "import_gsm8k",
    "import_hf",
    "import_reasoning_gym",
    "import_strategyqa",
    "import_svamp",
    "import_table",
]
