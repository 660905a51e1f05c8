"""Resuming sessions whose worker died (killed, crashed, machine lost).

procrastinate records a heartbeat per worker; a job still ``doing`` on a
worker whose heartbeat stopped is stalled. Retrying it re-runs
``execute_session``, which resumes after the last saved turn.
"""

from __future__ import annotations

import logging

from procrastinate.contrib.django import app

logger = logging.getLogger(__name__)

STALLED_AFTER = 30.0  # seconds without a worker heartbeat


async def recover_stalled_sessions(seconds_since_heartbeat: float = STALLED_AFTER) -> list[int]:
    """Requeue the run jobs of dead workers; return their job ids."""
    stalled = await app.job_manager.get_stalled_jobs(
        task_name="runs.run_session", seconds_since_heartbeat=seconds_since_heartbeat)
    retried = []
    for job in stalled:
        logger.warning("resuming session job %s of a worker that stopped answering", job.id)
        await app.job_manager.retry_job(job)
        retried.append(job.id)
    return retried
