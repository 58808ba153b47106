"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the notification tests, and helpers to run
the worker's deliveries and read what arrived. Import the `mailbox` fixture into a module."""

from __future__ import annotations

import email
import re
import socket
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

LINK_RE = re.compile(r"https?://\S+")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)

    @property
    def to(self) -> str:
        return self.rcpt_tos[0]

    @property
    def subject(self) -> str:
        return " ".join(str(self.message["Subject"]).split())

    @property
    def body(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    @property
    def links(self) -> list[str]:
        return LINK_RE.findall(self.body)


class Collector:
    """aiosmtpd handler: keeps each message; refuses the first `refuse` with a 451."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse = 0
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.attempts += 1
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content)
        )
        return "250 OK"


class Mailbox:
    def __init__(self, collector: Collector, port: int) -> None:
        self.collector, self.port = collector, port

    @property
    def received(self) -> list[Received]:
        return self.collector.received

    def to(self, address: str) -> list[Received]:
        return [m for m in self.received if address in m.rcpt_tos]

    def refuse_next(self, count: int) -> None:
        self.collector.refuse = count

    def clear(self) -> None:
        self.collector.received.clear()


@pytest.fixture
def mailbox(app):
    """A real SMTP server on 127.0.0.1; the app sends to it for this test."""
    collector = Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()
    before = {key: app.config.get(key) for key in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield Mailbox(collector, port)
    finally:
        app.config.update(before)
        controller.stop()


def deliver_all() -> dict[str, int]:
    """Do what the worker does for every due outbox row, in this process."""
    from portal.notifications.delivery import deliver_due

    return deliver_due()


class Jobs:
    """The job queue of the test's app (huey, in memory): run what was enqueued, as a worker
    would, in this process."""

    def run(self) -> int:
        from portal.jobs import huey

        count = 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            count += 1
        return count

    def pending(self) -> list[str]:
        from portal.jobs import huey

        return [task.name for task in huey.pending()]


@pytest.fixture
def jobs(app):
    """The queue emptied of what earlier tests left, then a runner."""
    from portal.jobs import huey

    huey.flush()
    yield Jobs()
    huey.flush()
