"""Delivery channels: one small class per channel behind one protocol, a registry keyed by kind."""

from __future__ import annotations

import asyncio
import json
from email.message import EmailMessage
from typing import Any, Protocol

import aiosmtplib
import httpx
from pydantic import EmailStr, TypeAdapter, ValidationError

from notifications.domain.delivery_policy import sign
from notifications.settings import NotificationsSettings
from notifications.webhook_targets import WebhookTarget, WebhookTargetRefused

Document = dict[str, Any]


class ChannelError(Exception):
    """The attempt failed; the delivery is retried with backoff, unless ``permanent`` (no retry can help,
    e.g. an address that is not one): then it fails for good at once."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


EMAIL_ADDRESS: TypeAdapter[str] = TypeAdapter(EmailStr)


def email_address(value: object) -> str | None:
    """``value`` when it is an e-mail address (also no CR/LF, so never a header injection), else None."""
    try:
        return EMAIL_ADDRESS.validate_python(value)
    except ValidationError:
        return None


class DeliveryChannel(Protocol):
    kind: str

    def address(self, person: Document | None) -> str | None:
        """Where this channel reaches the person, or None when it cannot."""

    async def send(self, *, alert: Document, delivery_id: str, address: str, url: str) -> None:
        """Deliver once, pointing at ``url``; raise ``ChannelError`` on failure."""


def alert_url(alert: Document, person: Document | None, settings: NotificationsSettings) -> str:
    """Where an e-mail or webhook sends its reader: staff to the console's alert page, students to the
    student frontend's page for the item. Ids only, never health data; opening it changes nothing."""
    kind = (person or {}).get("kind")
    if kind == "student" or (kind != "staff" and alert.get("recipient_id") == alert.get("subject_id")):
        return f"{settings.public_base_url.rstrip('/')}{alert['link']}"
    return f"{settings.console_base_url.rstrip('/')}/alerts/{alert['_id']}"


def alert_payload(alert: Document, *, delivery_id: str, url: str, include_reasons: bool) -> Document:
    """What leaves the platform: ids, type, severity, title and a link; the reasons and the subject's id
    only when the channel's setting says so (reason codes are health data, third-party chats are not
    the place for them). Never any content."""
    severity = alert["severity"]
    payload: Document = {
        "alert_id": alert["_id"],
        "delivery_id": delivery_id,
        "event_type": alert["event_type"],
        "severity": severity,
        "title": alert["title"],
        "link": alert["link"],
        "url": url,
        "created_at": alert["created_at"].isoformat(),
        "text": f"[{severity.upper()}] {alert['title']}: {url}",
    }
    if include_reasons:
        payload.update(reasons=alert.get("reasons", []), subject_id=alert["subject_id"])
        payload["text"] = f"[{severity.upper()}] {alert['title']} (subject {alert['subject_id']}): {url}"
    return payload


class InAppChannel:
    """The alert itself is the inbox item; storing it delivered it (live clients follow the SSE stream)."""

    kind = "inapp"

    def address(self, person: Document | None) -> str | None:
        return "inbox"

    async def send(self, *, alert: Document, delivery_id: str, address: str, url: str) -> None:
        return None


class EmailChannel:
    kind = "email"

    def __init__(self, settings: NotificationsSettings) -> None:
        self._settings = settings

    def address(self, person: Document | None) -> str | None:
        return (person or {}).get("email")

    async def send(self, *, alert: Document, delivery_id: str, address: str, url: str) -> None:
        s = self._settings
        if email_address(address) is None:  # written before addresses were validated (or a hand edit)
            raise ChannelError("email: the recipient's address is not an e-mail address", permanent=True)
        payload = alert_payload(alert, delivery_id=delivery_id, url=url, include_reasons=s.email_include_reasons)
        reasons = f"Reasons: {', '.join(payload['reasons']) or '-'}\n" if s.email_include_reasons else ""
        message = EmailMessage()
        message["From"], message["To"] = s.smtp_from, address
        message["Subject"] = f"[{alert['severity'].upper()}] {alert['title']}"
        message["X-Medsupport-Alert-ID"] = alert["_id"]
        message.set_content(
            f"{alert['title']}\n\nSeverity: {alert['severity']}\n{reasons}Open: {payload['url']}\n\n"
            "Acknowledge the alert on that page to stop escalation (opening the link alone does not).\n"
        )
        try:
            async with asyncio.timeout(s.smtp_timeout_seconds):  # the whole conversation, not each read
                await aiosmtplib.send(
                    message,
                    hostname=s.smtp_host,
                    port=s.smtp_port,
                    timeout=s.smtp_timeout_seconds,
                    username=s.smtp_username,
                    use_tls=s.smtp_tls == "implicit",
                    start_tls=s.smtp_starttls and s.smtp_tls == "starttls",
                    password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                )
        except TimeoutError as exc:
            raise ChannelError(f"smtp: no answer within {s.smtp_timeout_seconds:g}s") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise ChannelError(f"smtp: {type(exc).__name__}") from exc


class WebhookChannel:
    """POSTs the alert as JSON, signed ``X-Signature: sha256=<hex HMAC>``; any 2xx is success (redirects
    are not followed). The JSON has a ``text`` field, so Slack/Teams-style incoming webhooks show it as it
    is. The host is resolved and checked at every send and the connection pinned to the checked address."""

    kind = "webhook"

    def __init__(self, settings: NotificationsSettings, client: httpx.AsyncClient) -> None:
        self._settings = settings
        self._client = client

    def address(self, person: Document | None) -> str | None:
        return (person or {}).get("webhook_url")

    async def send(self, *, alert: Document, delivery_id: str, address: str, url: str) -> None:
        s = self._settings
        payload = alert_payload(alert, delivery_id=delivery_id, url=url, include_reasons=s.webhook_include_reasons)
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Delivery-ID": delivery_id,
            "X-Signature": sign(body, self._settings.webhook_signing_secret.get_secret_value()),
        }
        deadline = self._settings.webhook_timeout_seconds
        try:
            async with asyncio.timeout(deadline):  # the whole exchange: a drip-feeding endpoint is cut here
                target = await s.webhook_policy.resolve(address)
                status = await self._post(target, body, headers)
        except WebhookTargetRefused as exc:
            raise ChannelError(f"webhook: {exc}", permanent=True) from exc
        except TimeoutError as exc:
            raise ChannelError(f"webhook: no reply within {deadline:g}s") from exc
        except (httpx.HTTPError, OSError) as exc:
            raise ChannelError(f"webhook: {type(exc).__name__}") from exc
        if not 200 <= status < 300:
            raise ChannelError(f"webhook answered {status}")

    async def _post(self, target: WebhookTarget, body: bytes, headers: dict[str, str]) -> int:
        """The reply's status; at most ``webhook_max_response_bytes`` of its body are read (so a keep-alive
        connection can be reused), the rest is dropped with the connection."""
        cap = self._settings.webhook_max_response_bytes
        timeout = self._settings.webhook_timeout_seconds
        headers = {**headers, "Host": target.host_header()}
        extensions = {"sni_hostname": target.host}  # TLS is checked against the name, not the pinned address
        request = self._client.stream(
            "POST", target.pinned_url(), content=body, headers=headers, timeout=timeout, extensions=extensions
        )
        async with request as response:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > cap:
                    break
            return response.status_code


def channel_registry(settings: NotificationsSettings, client: httpx.AsyncClient) -> dict[str, DeliveryChannel]:
    channels: list[DeliveryChannel] = [InAppChannel(), EmailChannel(settings), WebhookChannel(settings, client)]
    return {channel.kind: channel for channel in channels}
