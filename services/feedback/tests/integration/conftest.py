import logging

import pytest

from feedback.app import create_app
from feedback.settings import FeedbackSettings
from medsupport_shared.log_config import JsonFormatter
from medsupport_shared.testing import TopicReader, running

FEEDBACK_TOPIC = "feedback.events.v1"


class LogCapture(logging.Handler):
    """Every log line the service writes, formatted exactly as it would reach stdout."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JsonFormatter("feedback"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class Stack:
    def __init__(self, app, client, reader, settings, logs):
        self.app, self.client, self.reader, self.settings, self.logs = app, client, reader, settings, logs

    @property
    def ctx(self):
        return self.app.state.services

    @property
    def db(self):
        return self.app.state.runtime.db

    def events(self, event_type, **data):
        return [
            e for e in self.reader.events if e.type == event_type and all(e.data.get(k) == v for k, v in data.items())
        ]


def feedback_settings(isolation, **overrides):
    values = {
        "overdue_sweep_interval_seconds": 0.2,
        "cohort_min_group_size": 2,
        "log_level": "DEBUG",
        **overrides,
    }
    return isolation.settings(FeedbackSettings, **values)


@pytest.fixture
def make_stack(isolation):
    """``async with make_stack(**settings) as stack``: the service on the real Kafka and MongoDB."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def make(settings=None, **overrides):
        settings = settings or feedback_settings(isolation, **overrides)
        app = create_app(settings)
        logs = LogCapture()
        root = logging.getLogger()
        root.addHandler(logs)
        try:
            async with (
                running(app) as client,
                TopicReader(settings.kafka_bootstrap_servers, isolation.topic(FEEDBACK_TOPIC)) as reader,
            ):
                yield Stack(app, client, reader, settings, logs)
        finally:
            root.removeHandler(logs)

    return make


@pytest.fixture
async def stack(make_stack):
    async with make_stack() as s:
        yield s
