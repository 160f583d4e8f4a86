"""Application-level encryption of free-text fields at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from settings as a comma-separated list; the first encrypts, all decrypt (rotation)."""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr


class FieldCipher:
    def __init__(self, keys: SecretStr | str) -> None:
        raw = keys.get_secret_value() if isinstance(keys, SecretStr) else keys
        try:
            self._fernet = MultiFernet([Fernet(k.strip().encode()) for k in raw.split(",") if k.strip()])
        except (ValueError, TypeError) as exc:
            raise ValueError("encryption keys must be url-safe base64 32-byte Fernet keys") from exc

    def encrypt(self, text: str | None) -> str | None:
        return None if text is None else self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("a stored field could not be decrypted with the configured keys") from exc


def derived_secret(keys: SecretStr | str, label: str) -> bytes:
    """A secret for one purpose (``label``), derived from the first (encrypting) key of a key list, so that
    the HMAC keys of different uses are independent and need no setting of their own."""
    raw = keys.get_secret_value() if isinstance(keys, SecretStr) else keys
    first = next((k.strip() for k in raw.split(",") if k.strip()), "")
    if not first:
        raise ValueError("no key to derive a secret from")
    return hmac.new(first.encode(), f"medsupport/{label}".encode(), hashlib.sha256).digest()
