"""A synthetic run for load tests and the live benchmark: no model, only the live protocol.

:func:`synthetic_stream` plays one session of an existing Run the way the
runs engine does -- ``run.started``, ``turn.started``, token frames through
:class:`~sandbox.live.publish.TokenFrames` at a fixed rate, the saved Turn,
``turn.completed``, ``run.progress``, ``run.completed`` -- and, like the engine,
stops within a fraction of a second when the run is halted, saving the partial
turn as halted. With ``stamp`` each token carries the wall-clock time it was
produced (``w<i>@<unix time> ``) so that a viewer can measure its latency.

It is started in the server's process by the ``live.synthetic_stream`` job
(``sandbox/live/tasks.py``; ``manage.py live_synthetic`` defers it).
"""

from __future__ import annotations

import asyncio
import time

from asgiref.sync import sync_to_async
from django.db.models import F
from django.utils import timezone

from sandbox.live.publish import TokenFrames, apublish
from sandbox.runs.models import Run, RunStatus, Session, Turn, TurnStatus

STOP_POLL = 0.2


async def _run_status(run_id: int) -> str:
    return await Run.objects.filter(pk=run_id).values_list("status", flat=True).aget()


@sync_to_async
def _save_turn(session: Session, index: int, user: str, answer: str, status: str,
               started_at) -> Turn:
    turn = Turn.objects.create(session=session, run_id=session.run_id,
                               sandbox_id=session.sandbox_id, index=index,
                               turn_key=f"t{index}", user_message=user, assistant_message=answer,
                               status=status, started_at=started_at,
                               completed_at=timezone.now())
    Run.objects.filter(pk=session.run_id).update(turns_done=F("turns_done") + 1)
    return turn


async def synthetic_stream(*, session_id: int, turns: int = 1, tokens: int = 40,
                           rate: float = 20.0, start_at: float | None = None,
                           stamp: bool = False, words: list[str] | None = None) -> dict:
    """Play one synthetic session; return ``{"frames": n, "tokens": n, "status": s}``.

    ``words`` replaces the generated tokens (cycled), e.g. to stream hostile text.
    """
    session = await Session.objects.select_related("run").aget(pk=session_id)
    run_id, sandbox_id = session.run_id, session.sandbox_id
    if start_at is not None:
        await asyncio.sleep(max(0.0, start_at - time.time()))
    started = await Run.objects.filter(pk=run_id, status=RunStatus.QUEUED).aupdate(
        status=RunStatus.RUNNING, started_at=timezone.now())
    if started:
        await apublish(run_id=run_id, sandbox_id=sandbox_id, type="run.started",
                       payload={"total": session.run.turns_total})
    frames_sent = tokens_sent = 0
    final = RunStatus.COMPLETED
    for index in range(turns):
        user = f"Question {index}"
        started_at = timezone.now()
        await apublish(run_id=run_id, sandbox_id=sandbox_id, type="turn.started",
                       payload={"session": session.pk, "turn": index, "user_message": user,
                                "model": "synthetic", "scenario": session.variant_id})
        frames = TokenFrames(run_id=run_id, sandbox_id=sandbox_id, session_id=session.pk,
                             turn_index=index)
        answer: list[str] = []
        status = TurnStatus.COMPLETED
        next_poll = time.monotonic() + STOP_POLL
        begin = time.monotonic()
        for i in range(tokens):
            await asyncio.sleep(max(0.0, begin + i / rate - time.monotonic()))
            if time.monotonic() >= next_poll:
                next_poll = time.monotonic() + STOP_POLL
                current = await _run_status(run_id)
                if current in (RunStatus.HALTED, RunStatus.CANCELLED):
                    status = final = current
                    break
            word = (words[i % len(words)] if words else
                    f"w{i}@{time.time():.6f} " if stamp else f"w{i} ")
            answer.append(word)
            tokens_sent += 1
            await frames.add(word)
        await frames.close()
        frames_sent += frames.frames_sent
        turn = await _save_turn(session, index, user, "".join(answer), status, started_at)
        await apublish(run_id=run_id, sandbox_id=sandbox_id, type="turn.completed",
                       payload={"session": session.pk, "turn": index, "turn_id": turn.pk,
                                "status": status, "assistant_message": turn.assistant_message,
                                "checks": []})
        run = await Run.objects.only("turns_done", "turns_total").aget(pk=run_id)
        await apublish(run_id=run_id, sandbox_id=sandbox_id, type="run.progress",
                       payload={"done": run.turns_done, "total": run.turns_total})
        if status != TurnStatus.COMPLETED:
            break
    if final == RunStatus.COMPLETED:
        done = await Run.objects.filter(pk=run_id, status=RunStatus.RUNNING).aupdate(
            status=RunStatus.COMPLETED, finished_at=timezone.now())
        if done:
            await apublish(run_id=run_id, sandbox_id=sandbox_id, type="run.completed",
                           payload={"status": RunStatus.COMPLETED})
    return {"frames": frames_sent, "tokens": tokens_sent, "status": final}
