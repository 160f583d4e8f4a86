"""Re-encryption after a key rotation: every value a service keeps encrypted is rewritten under the first
(current) key of its key lists, so that the old key can be removed and, if it leaked, stops being useful.

    python -m medsupport_shared.key_rotation <service>     # e.g. wellbeing; reads the service's settings

Procedure: put the new key first in each *_ENCRYPTION_KEY list (old key after it), roll the service out (it
now encrypts with the new key and still reads the old), run this, then drop the old key from the lists.
Every string of every document is tried against the service's ciphers (field by field, also inside lists
and sub-documents), so no list of encrypted fields can fall out of date; a value no key opens is left as it
is. Each document is updated only if the rewritten fields are unchanged since they were read (a concurrent
write wins; run again to catch it)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import SecretStr
from pymongo.asynchronous.database import AsyncDatabase

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.mongo import create_client
from medsupport_shared.settings import ServiceSettings

Document = dict[str, Any]


@dataclass
class RotationReport:
    documents: int = 0
    values_rotated: int = 0
    documents_changed_meanwhile: int = 0


def _rotated(value: Any, ciphers: list[FieldCipher]) -> tuple[Any, int]:
    if isinstance(value, str):
        for cipher in ciphers:
            token = cipher.rotate(value)
            if token is not None:
                return token, 1
        return value, 0
    if isinstance(value, list):
        pairs = [_rotated(v, ciphers) for v in value]
        return [v for v, _ in pairs], sum(n for _, n in pairs)
    if isinstance(value, dict):
        pairs_by_key = {k: _rotated(v, ciphers) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs_by_key.items()}, sum(n for _, n in pairs_by_key.values())
    return value, 0


async def rotate_database(db: AsyncDatabase[Document], ciphers: list[FieldCipher]) -> RotationReport:
    report = RotationReport()
    for name in sorted(await db.list_collection_names()):
        if name.startswith("system."):
            continue
        collection = db[name]
        async for document in collection.find({}):
            report.documents += 1
            changes: Document = {}
            for key, value in document.items():
                if key == "_id":
                    continue
                new, count = _rotated(value, ciphers)
                if count:
                    changes[key] = new
                    report.values_rotated += count
            if not changes:
                continue
            unchanged = {"_id": document["_id"], **{key: document[key] for key in changes}}
            result = await collection.update_one(unchanged, {"$set": changes})
            if result.matched_count == 0:
                report.documents_changed_meanwhile += 1
    return report


def ciphers_of(settings: ServiceSettings) -> list[FieldCipher]:
    """A cipher per *_encryption_key setting (each a key list: the first key encrypts)."""
    return [
        FieldCipher(value)
        for name, value in sorted(settings.__dict__.items())
        if name.endswith("encryption_key") and isinstance(value, SecretStr)
    ]


def settings_of(service: str) -> ServiceSettings:
    module = importlib.import_module(f"{service}.settings")
    for candidate in vars(module).values():
        if isinstance(candidate, type) and issubclass(candidate, ServiceSettings) and candidate is not ServiceSettings:
            settings = candidate()
            if settings.service_name == service:
                return settings
    raise SystemExit(f"no settings class for service {service!r}")


async def rotate_service(settings: ServiceSettings) -> RotationReport:
    client = create_client(settings.mongo_url)
    try:
        return await rotate_database(client[settings.database_name], ciphers_of(settings))
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("service", choices=["feedback", "wellbeing", "mentorship", "notifications"])
    args = parser.parse_args(argv)
    report = asyncio.run(rotate_service(settings_of(args.service)))
    print(json.dumps({"service": args.service, **asdict(report)}))


if __name__ == "__main__":
    main()
