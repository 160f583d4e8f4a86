"""The questionnaires are served as data a frontend can render from, as a paged list and one by one."""

import pytest

from medsupport_shared.testing import auth
from wellbeing.domain.instruments import INSTRUMENTS

pytestmark = pytest.mark.integration

STUDENT = auth("s1", "student")


async def test_every_instrument_is_listed_by_code_across_pages(wellbeing):
    first = (await wellbeing.client.get("/v1/instruments", headers=STUDENT)).json()
    codes = [i["code"] for i in first["items"]]
    assert codes == sorted(INSTRUMENTS) and first["next_cursor"] is None
    assert {"who5", "phq2", "phq9", "gad2", "gad7", "pss10", "burnout"} <= set(codes)
    paged, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await wellbeing.client.get("/v1/instruments", params=params, headers=STUDENT)).json()
        assert len(page["items"]) <= 2
        paged += [i["code"] for i in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert paged == codes
    one = (await wellbeing.client.get("/v1/instruments/phq9", headers=STUDENT)).json()
    assert one == next(i for i in first["items"] if i["code"] == "phq9")
    assert len(one["items"]) == 9


async def test_the_list_needs_a_token_and_valid_paging(wellbeing):
    assert (await wellbeing.client.get("/v1/instruments")).status_code == 401
    bad = await wellbeing.client.get("/v1/instruments?cursor=%25%25", headers=STUDENT)
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    assert (await wellbeing.client.get("/v1/instruments?limit=0", headers=STUDENT)).status_code == 422
    missing = await wellbeing.client.get("/v1/instruments/nope", headers=STUDENT)
    assert missing.status_code == 404 and "phq9" in missing.json()["detail"]
