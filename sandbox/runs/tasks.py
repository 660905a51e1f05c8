"""Background jobs of runs (procrastinate): one-line wrappers around the engine."""

from procrastinate.contrib.django import app

from sandbox.runs import engine, recovery


@app.task(name="runs.run_session", queue="runs")
async def run_session(session_id: int) -> None:
    await engine.execute_session(session_id)


@app.periodic(cron="* * * * *", periodic_id="recover-stalled")
@app.task(name="runs.recover_stalled", queueing_lock="recover-stalled", queue="runs")
async def recover_stalled(timestamp: int) -> None:
    await recovery.recover_stalled_sessions()
