"""Job handlers used only by the job-runner tests (real handlers live with their features)."""

import time

from backend.jobs.context import JobContext


def count_to(ctx: JobContext) -> str:
    total = int(ctx.params["total"])
    for done in range(1, total + 1):
        ctx.check_cancel()
        time.sleep(float(ctx.params.get("sleep", 0)))
        ctx.progress(done, total, f"{done}/{total}", force=True)
    return f"counted to {total}"


def explode(ctx: JobContext) -> str:
    raise RuntimeError("the handler broke")
