"""No credentials from connection strings and no rejected input values reach the logs."""

import logging

import httpx
import pytest
from pydantic import BaseModel

from medsupport_shared.log_config import JsonFormatter
from medsupport_shared.redaction import describe_error, redact_credentials
from medsupport_shared.runtime import ServiceRuntime
from medsupport_shared.settings import ServiceSettings
from medsupport_shared.testing import free_port

from .demo_service import DemoSettings, create_app

SECRET_ANSWER = "item9-answer-three-private"


def test_connection_string_credentials_are_redacted_anywhere_in_a_text():
    text = "cannot reach mongodb://medsupport:s3cr%40t@db-1:27017,db-2:27017/feedback?authSource=admin nor x"
    assert (
        redact_credentials(text) == "cannot reach mongodb://***@db-1:27017,db-2:27017/feedback?authSource=admin nor x"
    )
    assert redact_credentials("mongodb+srv://u:p@cluster.example.org") == "mongodb+srv://***@cluster.example.org"
    assert redact_credentials("http://127.0.0.1:8001/v1 and a@b.c") == "http://127.0.0.1:8001/v1 and a@b.c"


def test_log_lines_never_carry_credentials():
    formatter = JsonFormatter("x")
    try:
        raise RuntimeError("mongodb://admin:hunter2@db:27017 refused")
    except RuntimeError:
        import sys

        record = logging.LogRecord("t", logging.ERROR, "f", 1, "url %s", ("kafka://k:pw2@h:1",), sys.exc_info())
    record.target = "mongodb://admin:hunter3@db"
    line = formatter.format(record)
    assert "hunter2" not in line and "pw2" not in line and "hunter3" not in line and "***@" in line


@pytest.mark.integration
async def test_mongodb_down_at_start_names_the_host_but_not_the_password():
    settings = ServiceSettings(service_name="x", mongo_url=f"mongodb://medsupport:topsecret@127.0.0.1:{free_port()}/x")
    runtime = ServiceRuntime(settings)
    with pytest.raises(RuntimeError) as raised:
        await runtime.start_storage(attempts=1)
    await runtime.stop()
    assert "topsecret" not in str(raised.value) and "127.0.0.1" in str(raised.value)


class _Reply(BaseModel):
    score: int


def test_validation_errors_are_described_without_their_input():
    with pytest.raises(ValueError) as raised:
        _Reply.model_validate({"score": SECRET_ANSWER})
    described = describe_error(raised.value)
    assert "score" in described and SECRET_ANSWER not in described


async def test_a_reply_that_fails_validation_is_logged_without_its_values(caplog):
    app = create_app(DemoSettings())

    @app.get("/v1/broken-reply", response_model=_Reply)
    async def broken() -> dict[str, str]:
        return {"score": SECRET_ANSWER}

    with caplog.at_level(logging.INFO):
        transport = httpx.ASGITransport(app=app)  # raises what the app re-raises to the server (which logs it)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/v1/broken-reply")
    assert response.status_code == 500 and SECRET_ANSWER not in response.text
    logged = [r for r in caplog.records if r.getMessage() == "unhandled error"]
    assert logged, "the failure is still logged"
    formatter = JsonFormatter("x")
    assert all(SECRET_ANSWER not in formatter.format(r) for r in caplog.records)
