"""Keeps secrets and personal data out of logs: credentials in connection strings, input values in
validation errors."""

from __future__ import annotations

import re

from pydantic import ValidationError

_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^\s/@]+@")


def redact_credentials(text: str) -> str:
    """``mongodb://user:password@host`` becomes ``mongodb://***@host`` (any scheme, anywhere in ``text``)."""
    return _URL_USERINFO.sub(r"\g<scheme>***@", text)


def is_validation_error(exc: BaseException) -> bool:
    """Pydantic's, or FastAPI's request/response validation errors: their text carries the input."""
    return isinstance(exc, ValidationError) or type(exc).__name__.endswith("ValidationError")


def describe_error(exc: BaseException) -> str:
    """An exception for a log line or a dead-letter header: a validation error by its type and the
    locations and messages of its errors only (pydantic's text repeats the input, which may be health
    data); anything else by its repr, without credentials."""
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return f"{type(exc).__name__}({exc.title}): {problems}"[:2000]
    errors = getattr(exc, "errors", None)
    if callable(errors) and is_validation_error(exc):
        try:
            items = list(errors())
        except Exception:  # a foreign errors() signature: keep only the type
            items = []
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}" for e in items if isinstance(e, dict)
        )
        return f"{type(exc).__name__}: {problems}"[:2000]
    return redact_credentials(repr(exc))[:2000]
