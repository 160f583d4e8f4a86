"""Application-level encryption of free-text fields at rest (Fernet: AES-128-CBC + HMAC-SHA256).

Keys come from settings as a comma-separated list; the first encrypts, all decrypt (rotation)."""

from __future__ import annotations

import base64
import binascii
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

    def rotate(self, token: str) -> str | None:
        """``token`` re-encrypted with the first (current) key, or None when no configured key opens it
        (another cipher's value, or not a token at all)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except (InvalidToken, ValueError, TypeError):
            return None

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


MIN_DISTINCT_KEY_BYTES = 16
"""A random 32-byte key has about 28 distinct byte values; fewer than 16 means a pattern (zeros, a phrase)."""


def key_list_problems(keys: str) -> list[str]:
    """What is wrong with a comma-separated Fernet key list: an entry that is not a key, or a weak one."""
    problems = []
    parts = [k.strip() for k in keys.split(",") if k.strip()]
    if not parts:
        return ["is empty"]
    for position, part in enumerate(parts, start=1):
        try:
            raw = base64.urlsafe_b64decode(part.encode())
        except (ValueError, binascii.Error):
            raw = b""
        if len(raw) != 32:
            problems.append(f"entry {position} is not a url-safe base64 32-byte Fernet key")
        elif len(set(raw)) < MIN_DISTINCT_KEY_BYTES:
            problems.append(f"entry {position} has too little entropy (generate it with Fernet.generate_key())")
    return problems
