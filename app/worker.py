"""The entry point of `rq worker`: builds the app from the environment and runs one job."""
from __future__ import annotations

from app import create_app
from app.web.jobs import run_job


def run_job_in_worker(job_id: int) -> None:
    """Run job ``job_id`` in a worker process (the app comes from the environment)."""
    run_job(job_id, create_app())
