"""/readyz means "can serve its core routes": ready while MongoDB answers even when Kafka does not
(the outbox holds the events), with every dependency's state in ``checks``; 503 naming MongoDB when
it is down; 200 again once it is back."""

import pytest

from medsupport_shared.testing import auth, eventually, free_port, running

from .demo_service import DemoSettings, create_app

pytestmark = pytest.mark.integration


async def test_readyz_stays_ready_without_kafka_and_is_503_without_the_database(isolation, disposable_infrastructure):
    infra = disposable_infrastructure
    settings = isolation.settings(
        DemoSettings,
        kafka_bootstrap_servers=infra.infra.kafka_bootstrap_servers,
        mongo_url=infra.infra.mongo_url,
    )
    async with running(create_app(settings, consume=False)) as client:

        async def status_and_body():
            response = await client.get("/readyz")
            return response.status_code, response.json()

        assert await status_and_body() == (
            200,
            {"status": "ready", "checks": {"mongodb": True, "kafka": True}, "degraded": []},
        )
        await infra.stop("kafka")
        try:
            await eventually(lambda: _when(status_and_body, lambda b: b["checks"]["kafka"] is False), timeout=30)
            status, body = await status_and_body()
            assert status == 200 and body["degraded"] == ["kafka"] and body["checks"]["mongodb"] is True
            # ...because the core routes do work: the check-in-like note is accepted into the outbox
            created = await client.post("/v1/notes", json={"text": "kafka down"}, headers=auth("s1", "student"))
            assert created.status_code == 201
            metrics = (await client.get("/metrics")).text
            assert 'medsupport_dependency_up{dependency="kafka",service="demo"} 0.0' in metrics
        finally:
            await infra.start("kafka")
        await eventually(lambda: _when(status_and_body, lambda b: b["degraded"] == []), timeout=60)

        await infra.stop("mongo")
        try:
            status, body = await eventually(lambda: _when(status_and_body, lambda b: b["status"] == 503), timeout=30)
            assert "mongodb" in body["detail"] and body["checks"] == {"mongodb": False, "kafka": True}
            assert (await client.get("/healthz")).status_code == 200
        finally:
            await infra.start("mongo")
        await eventually(lambda: _when(status_and_body, lambda b: b["status"] == "ready"), timeout=60)
        metrics = (await client.get("/metrics")).text
        assert 'medsupport_dependency_up{dependency="kafka",service="demo"} 1.0' in metrics


async def test_a_service_whose_core_routes_need_kafka_says_so_and_is_not_ready_without_it(isolation):
    nobody_listens = f"127.0.0.1:{free_port()}"
    app = create_app(isolation.settings(DemoSettings, kafka_bootstrap_servers=nobody_listens), consume=False)
    async with running(app) as client:
        assert (await client.get("/readyz")).status_code == 200  # by default MongoDB is enough
        app.state.runtime.ready_requires("kafka")
        response = await client.get("/readyz")
        assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
        assert "kafka" in response.json()["detail"] and response.json()["checks"]["kafka"] is False


async def _when(probe, accept):
    result = await probe()
    return result if accept(result[1]) else None
