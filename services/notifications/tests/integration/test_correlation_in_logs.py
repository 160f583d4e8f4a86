"""The correlation id of the request that raised a flag is in notifications' log lines for the alert
it made and delivered (carried by the Kafka headers), and those lines name no person."""

import logging

import pytest

from medsupport_shared import correlation
from medsupport_shared.testing import eventually, running

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str | None, dict]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.getMessage(), correlation.current_correlation_id(), dict(record.__dict__)))


async def test_the_flags_correlation_id_reaches_the_alert_log_lines(stack):
    lines = Lines()
    logger = logging.getLogger("notifications")
    logger.addHandler(lines)
    try:
        app = stack.app()
        async with running(app) as client:
            await stack.setup_staff(client)
            await wait_for_consumer(app)
            correlation.bind("corr-flag-4711")
            await stack.flag(student="s-corr", severity="urgent", flag_id="f-corr")
            correlation.bind(None)

            def about_it(message):
                return [ids for text, ids, _ in lines.seen if text == message and ids == "corr-flag-4711"]

            await eventually(lambda: about_it("alert created") and about_it("alert delivered"), timeout=30)
            for text, ids, fields in lines.seen:
                if ids == "corr-flag-4711":
                    assert "s-corr" not in repr(fields) and "c1" not in fields.values(), text
    finally:
        logger.removeHandler(lines)
