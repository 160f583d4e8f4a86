"""/readyz follows the real servers: 503 naming what is down, 200 once it is back."""

import pytest

from medsupport_shared.testing import eventually, running

from .demo_service import DemoSettings, create_app

pytestmark = pytest.mark.integration


async def test_readyz_reports_each_outage_and_recovery(isolation, disposable_infrastructure):
    infra = disposable_infrastructure
    settings = isolation.settings(
        DemoSettings,
        kafka_bootstrap_servers=infra.infra.kafka_bootstrap_servers,
        mongo_url=infra.infra.mongo_url,
    )
    async with running(create_app(settings, consume=False)) as client:

        async def status_and_detail():
            response = await client.get("/readyz")
            return response.status_code, response.json()

        assert (await status_and_detail())[0] == 200
        for dependency, name in (("kafka", "kafka"), ("mongo", "mongodb")):
            await infra.stop(dependency)
            try:
                _, body = await eventually(lambda: _when(status_and_detail, 503), timeout=30)
                assert body["status"] == 503 and name in body["detail"] and body["checks"][name] is False
                assert (await client.get("/healthz")).status_code == 200
            finally:
                await infra.start(dependency)
            await eventually(lambda: _when(status_and_detail, 200), timeout=60)
        metrics = (await client.get("/metrics")).text
        assert 'medsupport_dependency_up{dependency="kafka",service="demo"} 1.0' in metrics


async def _when(probe, status):
    result = await probe()
    return result if result[0] == status else None
