"""Concern reports: categories, triage transitions and follow-up codes for anonymous reporters.

An anonymous report stores no identity at all. The reporter keeps a random follow-up code; the
service keeps only a keyed hash of it (HMAC-SHA256 with a server secret), never the code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Final

MAX_DESCRIPTION_CHARS: Final = 10000
MAX_WHERE_CHARS: Final = 500
MAX_PEOPLE_CHARS: Final = 2000
MAX_MESSAGE_CHARS: Final = 5000
MAX_OUTCOME_CHARS: Final = 5000
MAX_MESSAGES: Final = 200


class ConcernCategory(StrEnum):
    MISTREATMENT = "mistreatment"
    DISCRIMINATION = "discrimination"
    BIAS = "bias"
    PROFESSIONALISM = "professionalism"
    SAFETY = "safety"
    OTHER = "other"


class ConcernStatus(StrEnum):
    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    ACTION_TAKEN = "action_taken"
    CLOSED = "closed"


class MessageFrom(StrEnum):
    OFFICER = "officer"
    REPORTER = "reporter"


ALLOWED_MOVES: Final[dict[ConcernStatus, frozenset[ConcernStatus]]] = {
    ConcernStatus.RECEIVED: frozenset({ConcernStatus.UNDER_REVIEW, ConcernStatus.CLOSED}),
    ConcernStatus.UNDER_REVIEW: frozenset({ConcernStatus.ACTION_TAKEN, ConcernStatus.CLOSED}),
    ConcernStatus.ACTION_TAKEN: frozenset({ConcernStatus.CLOSED, ConcernStatus.UNDER_REVIEW}),
    ConcernStatus.CLOSED: frozenset({ConcernStatus.UNDER_REVIEW}),
}
"""Triage moves: forward through review to action and closure; a closed or actioned concern can be
reopened for review; a report can be closed straight from received (e.g. a duplicate)."""


class TransitionNotAllowed(Exception):
    pass


def check_transition(current: ConcernStatus, target: ConcernStatus) -> None:
    """Raises ``TransitionNotAllowed`` unless ``current -> target`` is an allowed triage move."""
    if target not in ALLOWED_MOVES[current]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_MOVES[current]))
        raise TransitionNotAllowed(f"a {current.value} concern can move to: {allowed}")


def anonymous_timestamp(moment: datetime) -> datetime:
    """An anonymous report's time, rounded down to the hour, so it cannot be matched to the
    request in an access log, a proxy log or a trace."""
    return moment.replace(minute=0, second=0, microsecond=0)


# ------------------------------------------------------------------ follow-up codes

CODE_ALPHABET: Final = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""31 symbols, none of the look-alikes 0/O, 1/I/L."""
CODE_GROUPS: Final = 4
CODE_GROUP_SIZE: Final = 4
CODE_LENGTH: Final = CODE_GROUPS * CODE_GROUP_SIZE
_HASH_LABEL: Final = b"medsupport/concern-follow-up-code/v1\x00"
_SEED_LABEL: Final = b"medsupport/concern-code-seed/v1\x00"


def _format(symbols: str) -> str:
    return "-".join(symbols[i : i + CODE_GROUP_SIZE] for i in range(0, CODE_LENGTH, CODE_GROUP_SIZE))


def new_follow_up_code() -> str:
    """A fresh random code such as ``K7QX-M2HD-9WTR-CF4N`` (16 symbols, about 79 bits)."""
    return _format("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


MIN_ANONYMOUS_KEY_LENGTH = 16
"""An anonymous report's Idempotency-Key shorter than this is ignored (each post is a fresh report): a
short key is likely predictable, and the key is what a retry's code is derived from."""


def derived_follow_up_code(*, secret: bytes, seed: str) -> str:
    """A code derived from a secret seed (a retried anonymous submission with the same
    Idempotency-Key and body gets the same code back without the code ever being stored)."""
    number = int.from_bytes(hmac.new(secret, _SEED_LABEL + seed.encode(), hashlib.sha256).digest(), "big")
    symbols = []
    for _ in range(CODE_LENGTH):
        number, index = divmod(number, len(CODE_ALPHABET))
        symbols.append(CODE_ALPHABET[index])
    return _format("".join(symbols))


def normalize_code(raw: str) -> str:
    """Upper-case, without spaces or dashes. Never raises: a malformed code simply matches nothing."""
    return "".join(ch for ch in raw.upper() if ch not in " -\t\r\n")[:64]


def hash_code(*, secret: bytes, code: str) -> str:
    """The stored form of a code: HMAC-SHA256 under the server secret (hex)."""
    return hmac.new(secret, _HASH_LABEL + normalize_code(code).encode(), hashlib.sha256).hexdigest()


def codes_match(stored_hash: str, candidate_hash: str) -> bool:
    """Constant-time comparison of two code hashes."""
    return hmac.compare_digest(stored_hash.encode(), candidate_hash.encode())


def keyed_digest(secret: bytes, label: str, *parts: str) -> str:
    """A keyed digest of ``parts`` (for idempotency of anonymous submissions: no raw key stored)."""
    message = "\x1f".join((label, *parts)).encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
