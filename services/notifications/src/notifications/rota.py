"""Who is on call for a team at a time (pure): overrides first, then the ordered shifts (start
inclusive, end exclusive), and in a gap the team's lead, never nobody."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, model_validator

from medsupport_shared.inputs import UtcInstant


class Shift(BaseModel):
    model_config = ConfigDict(frozen=True)
    staff_id: str = Field(min_length=1)
    start: UtcInstant
    end: UtcInstant

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise ValueError("a shift must end after it starts")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("shift times must carry a UTC offset (RFC 3339)")
        return self

    def covers(self, at: datetime) -> bool:
        return self.start <= at < self.end


class Rota(BaseModel):
    model_config = ConfigDict(frozen=True)
    team: str
    lead_id: str = Field(min_length=1, description="on call whenever no shift or override covers the time")
    shifts: tuple[Shift, ...] = ()
    overrides: tuple[Shift, ...] = Field(default=(), description="take precedence over shifts (swaps, sickness)")


def on_call(rota: Rota, at: datetime) -> str:
    for override in sorted(rota.overrides, key=lambda s: s.start, reverse=True):  # the latest-starting wins
        if override.covers(at):
            return override.staff_id
    for shift in rota.shifts:  # ordered: the first covering shift wins
        if shift.covers(at):
            return shift.staff_id
    return rota.lead_id
