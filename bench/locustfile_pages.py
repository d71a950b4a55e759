"""The users of bench/bench_load.py: a signed-in manager clicking through the main pages and
htmx requests with 1-3 s of thinking between clicks, and the static file as the floor.

Configured by bench_load.py through the environment: BENCH_LOAD_COOKIE (the session cookie of
a signed-in manager), BENCH_LOAD_PATHS (name TAB path TAB htmx lines).
"""
from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

COOKIE = os.environ.get("BENCH_LOAD_COOKIE", "")
PATHS = [line.split("\t") for line in os.environ.get("BENCH_LOAD_PATHS", "").splitlines() if line.strip()]


class Manager(HttpUser):
    """One reader of the pages; the session cookie was made by one sign-in in bench_load.py."""

    wait_time = between(1, 3)

    def on_start(self):
        self.client.cookies.set("session", COOKIE)

    @task(10)
    def page(self):
        name, path, hx = random.choice(PATHS)
        headers = {"HX-Request": "true"} if hx == "1" else {}
        with self.client.get(path, headers=headers, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")

    @task(1)
    def static(self):
        self.client.get("/static/app.js", name="static file (floor)")
