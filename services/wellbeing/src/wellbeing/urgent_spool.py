"""A durable local spool of urgent flags raised while the database was down.

One file per flag (named by its check-in id), written to a temporary name, flushed to disk and renamed,
so a crash leaves either the whole flag or nothing; its content is encrypted with the notes key (the
spool sits on a disk that backups and other readers may see). Several processes may share a directory:
a flag replayed twice is the same flag with the same event id, so nothing is doubled.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from medsupport_shared.crypto import FieldCipher

log = logging.getLogger(__name__)


class SpooledFlag(BaseModel):
    """What an urgent check-in needs to raise its flag: ids, categories and times, never answers or notes."""

    checkin_id: str
    student_id: str
    cohort: str | None
    instrument: str
    severity: str
    reasons: list[str]
    priority: int
    raised_at: datetime
    event: str
    """The ``flag.raised`` envelope as published (its id is derived from the check-in)."""
    published: bool = False


class UrgentSpool:
    def __init__(self, directory: Path, cipher: FieldCipher) -> None:
        self.directory = directory
        self._cipher = cipher

    async def put(self, flag: SpooledFlag) -> bool:
        """Write ``flag`` durably; False (logged) when the disk refuses, so the caller can fall back."""
        try:
            await asyncio.to_thread(self._write, flag)
        except OSError as exc:
            log.error("urgent flag could not be spooled", extra={"checkin_id": flag.checkin_id, "error": repr(exc)})
            return False
        return True

    async def pending(self) -> list[SpooledFlag]:
        return await asyncio.to_thread(self._read_all)

    async def remove(self, checkin_id: str) -> None:
        await asyncio.to_thread(self._path(checkin_id).unlink, missing_ok=True)

    def _path(self, checkin_id: str) -> Path:
        return self.directory / f"{checkin_id}.flag"

    def _write(self, flag: SpooledFlag) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        final = self._path(flag.checkin_id)
        temporary = final.with_suffix(".tmp")
        token = self._cipher.encrypt(flag.model_dump_json()) or ""
        with open(temporary, "w", encoding="ascii") as handle:
            handle.write(token)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        directory = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)

    def _read_all(self) -> list[SpooledFlag]:
        if not self.directory.is_dir():
            return []
        flags = []
        for path in sorted(self.directory.glob("*.flag")):
            try:
                flags.append(SpooledFlag.model_validate_json(self._cipher.decrypt(path.read_text("ascii")) or ""))
            except FileNotFoundError:  # another process finished it meanwhile
                continue
            except ValueError as exc:  # another key, or a damaged file: kept for a human, never dropped
                log.error("unreadable urgent spool file left in place", extra={"file": path.name, "error": repr(exc)})
        return flags
