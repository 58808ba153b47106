"""Closed-loop users for bench/load/run.py --ratio: no think time, one route each. The
signed-in coordinator's queue against an anonymous route that only answers, through the same
app and gunicorn (issue 14 item 6)."""

from __future__ import annotations

import itertools
import os
import time

import gevent
from locust import FastHttpUser, constant, task

from bench.load.locustfile import CLINICS, OUT, PASSWORD, TOTP_SECRET, token

_numbers = itertools.count(1)
_ready = itertools.count(1)


def measure_once_all_ready(user) -> None:
    """Statistics start afresh once every user has signed in; the run ends LOAD_SECONDS on."""
    runner = user.environment.runner
    if next(_ready) != runner.target_user_count:
        return
    runner.stats.reset_all()
    (OUT / "measuring").write_text("")
    gevent.spawn_later(float(os.environ["LOAD_SECONDS"]), runner.quit)


class HelloUser(FastHttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        measure_once_all_ready(self)

    @task
    def hello(self) -> None:
        self.client.get("/bench/hello", name="anonymous hello")


class QueueUser(FastHttpUser):
    """Signs in as a coordinator (a clinic of its own), then reads the queue's first page."""

    wait_time = constant(0)

    def on_start(self) -> None:
        import pyotp

        number = next(_numbers)
        clinic = 1 + number % CLINICS
        self.cookie = ""
        self.address = f"10.250.0.{number}"
        page = self._send("GET", "/login")
        form = {"email": f"coordinator{clinic}@bench.test", "password": PASSWORD,
                "csrf_token": token(page)}  # fmt: skip
        self._send("POST", "/login", form)
        for _attempt in range(3):  # a code works once per account: else the next 30 s step
            page = self._send("GET", "/two-step/code")
            code = pyotp.TOTP(TOTP_SECRET).now()
            if self._send("POST", "/two-step/code", {"code": code, "csrf_token": token(page)}):
                break
            time.sleep(30.5 - time.time() % 30)
        measure_once_all_ready(self)

    def _send(self, method: str, path: str, form: dict | None = None) -> str:
        """The production cookie is Secure: carried by hand over plain HTTP."""
        origin = "https://" + self.host.split("://", 1)[1].rstrip("/") + "/"
        headers = {"X-Forwarded-For": self.address, "X-Forwarded-Proto": "https", "Referer": origin}
        if self.cookie:
            headers["Cookie"] = self.cookie
        with self.client.request(
            method,
            path,
            data=form,
            headers=headers,
            name="sign-in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            response.success()  # a used code (422) is retried; the queue's check tells
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith("__Host-portal_session="):
                self.cookie = value.split(";", 1)[0]
        if method == "POST" and path.startswith("/two-step"):
            return "yes" if response.status_code == 302 else ""
        return response.text or ""

    @task
    def queue(self) -> None:
        headers = {"Cookie": self.cookie, "X-Forwarded-For": self.address,
                   "X-Forwarded-Proto": "https"}  # fmt: skip
        with self.client.get(
            "/triage/", headers=headers, name="signed-in queue", catch_response=True
        ) as response:
            if "KR-" not in (response.text or ""):
                response.failure("not the queue")
