from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser

from .harness import chromium


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched
