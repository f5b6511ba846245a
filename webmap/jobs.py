"""Planning jobs of the planner page: one background job at a time per server, in-process.

A job plans (and, with existing lines, evaluates and compares) on a worker thread while the
page stays responsive; its state — queued, running with progress, done with the plan, or
failed with the reason — lives in :class:`JobBoard`, so a page reload finds it again. A
second job while one runs is refused (:class:`JobBusyError`, answered 409) rather than queued:
the server has one planner's worth of CPU to give, and the user sees who is planning.

The worker only calls the planner (``routing.shuttle``); inputs are parsed and checked before
the job starts, so a job fails only on what the planner itself refuses.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from routing._errors import WarmheartError

if TYPE_CHECKING:
    from routing.shuttle import Comparison, Evaluation, Plan

__all__ = ["Job", "JobBoard", "JobBusyError", "JobResult"]

logger = logging.getLogger(__name__)

#: How many finished jobs the board remembers (the newest are kept).
KEEP_FINISHED = 5


class JobBusyError(WarmheartError, RuntimeError):
    """Another planning job is running on this server."""


@dataclass
class JobResult:
    """What a finished job made: the plan, and with existing lines their evaluation and the
    before/after comparison."""

    plan: Plan
    before: Evaluation | None = None
    comparison: Comparison | None = None


@dataclass
class Job:
    """One planning job and where it is."""

    id: str
    state: str = "queued"  # queued | running | done | failed
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    budget_s: float = 0.0
    stage: str = "queued"
    elapsed_s: float = 0.0
    wave: str = ""
    best_cost: float | None = None
    error: str = ""
    error_code: str = ""
    result: JobResult | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly status (the result's figures in ``summary``)."""
        fraction = 1.0 if self.state == "done" else 0.0
        if self.state == "running" and self.budget_s > 0:
            fraction = min(0.99, self.elapsed_s / self.budget_s)
        return {
            "id": self.id,
            "state": self.state,
            "stage": self.stage,
            "progress": round(fraction, 3),
            "elapsed_s": round(self.elapsed_s, 1),
            "budget_s": round(self.budget_s, 1),
            "wave": self.wave,
            "best_cost": round(self.best_cost, 2) if self.best_cost is not None else None,
            "error": self.error or None,
            "error_code": self.error_code or None,
            "summary": self.summary or None,
        }


class JobBoard:
    """The planning jobs of one server: at most one queued or running at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._order: list[str] = []

    def current(self) -> Job | None:
        """The running job, else the most recent one."""
        with self._lock:
            for jid in reversed(self._order):
                if self._jobs[jid].state in ("queued", "running"):
                    return self._jobs[jid]
            return self._jobs[self._order[-1]] if self._order else None

    def get(self, job_id: str) -> Job | None:
        """A job by id (``None`` when unknown or forgotten)."""
        with self._lock:
            return self._jobs.get(job_id)

    def latest_result(self) -> JobResult | None:
        """The result of the newest finished job, if any."""
        with self._lock:
            for jid in reversed(self._order):
                job = self._jobs[jid]
                if job.state == "done" and job.result is not None:
                    return job.result
        return None

    def submit(self, work: Callable[[Job], JobResult], *, budget_s: float, run: bool = True) -> Job:
        """Start ``work`` on a worker thread; :class:`JobBusyError` if a job is queued or running.

        ``work`` gets the :class:`Job` to report progress on and returns its result; an
        exception fails the job with its message (the board logs the traceback).
        """
        with self._lock:
            busy = [j for j in self._jobs.values() if j.state in ("queued", "running")]
            if busy:
                msg = f"A planning job is already running ({busy[0].id}); try again when it ends"
                raise JobBusyError(msg)
            job = Job(id=uuid.uuid4().hex[:12], budget_s=budget_s)
            self._jobs[job.id] = job
            self._order.append(job.id)
            finished = [j for j in self._order if self._jobs[j].state in ("done", "failed")]
            for old in finished[:-KEEP_FINISHED]:
                self._order.remove(old)
                del self._jobs[old]
        if run:
            thread = threading.Thread(target=self._run, args=(job, work), daemon=True)
            thread.start()
        return job

    def _run(self, job: Job, work: Callable[[Job], JobResult]) -> None:
        job.state, job.stage, job.started = "running", "preparing", time.time()
        try:
            result = work(job)
        except Exception as exc:
            logger.exception("Planning job %s failed", job.id)
            job.error = str(exc) or type(exc).__name__
            job.error_code = getattr(exc, "code", "") or type(exc).__name__
            job.state, job.stage = "failed", "failed"
        else:
            job.result = result
            job.state, job.stage = "done", "done"
        finally:
            job.finished = time.time()
            job.elapsed_s = job.finished - (job.started or job.finished)
