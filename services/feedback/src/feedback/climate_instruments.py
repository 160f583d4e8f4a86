"""Use cases: the climate instruments, the default pulse and those an institution loads as data."""

from __future__ import annotations

from feedback.context import FeedbackContext
from feedback.domain.climate import DEFAULT_PULSE, ClimateInstrument
from medsupport_shared.domain_errors import Conflict, NotFound
from medsupport_shared.mongo import paginate_sequence


class InstrumentNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"no instrument {code}")


class InstrumentLocked(Conflict):
    """The code is the built-in pulse's, or rotations already hold answers to it (rescoring them under
    changed items would make their released figures change)."""


async def all_instruments(ctx: FeedbackContext) -> list[ClimateInstrument]:
    loaded = [ClimateInstrument.model_validate(data) for data in await ctx.climate.instruments_loaded()]
    return [DEFAULT_PULSE, *loaded]


async def instruments_page(
    ctx: FeedbackContext, *, limit: int | None, cursor: str | None
) -> tuple[list[ClimateInstrument], str | None]:
    """One page of the instruments, by code (a cursor that is not one of ours is a 400)."""
    return paginate_sequence(await all_instruments(ctx), key=lambda i: i.code, limit=limit, cursor=cursor)


async def instrument_by_code(ctx: FeedbackContext, code: str) -> ClimateInstrument:
    if code == DEFAULT_PULSE.code:
        return DEFAULT_PULSE
    data = await ctx.climate.instrument(code=code)
    if data is None:
        raise InstrumentNotFound(code)
    return ClimateInstrument.model_validate(data)


async def load_instrument(ctx: FeedbackContext, instrument: ClimateInstrument) -> ClimateInstrument:
    if instrument.code == DEFAULT_PULSE.code:
        raise InstrumentLocked("the built-in pulse cannot be replaced; load yours under another code")
    if await ctx.climate.instrument_in_use(code=instrument.code):
        raise InstrumentLocked("rotations hold answers to this instrument; load a new version under a new code")
    await ctx.climate.save_instrument(code=instrument.code, data=instrument.model_dump(mode="json"))
    return instrument
