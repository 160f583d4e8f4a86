import pytest

from medsupport_shared.testing import TopicReader, running
from wellbeing.app import create_app
from wellbeing.settings import WellbeingSettings


class Stack:
    def __init__(self, app, client, reader, settings):
        self.app, self.client, self.reader, self.settings = app, client, reader, settings

    @property
    def repo(self):
        return self.app.state.services.repo


@pytest.fixture
async def wellbeing(isolation, tmp_path):
    settings = isolation.settings(
        WellbeingSettings,
        urgent_spool_dir=str(tmp_path / "urgent-spool"),
        flag_sweep_interval_seconds=0.2,
        flag_sweep_grace_seconds=0.5,
        reminder_sweep_interval_seconds=0.2,
    )
    app = create_app(settings)
    async with (
        running(app) as client,
        TopicReader(settings.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader,
    ):
        yield Stack(app, client, reader, settings)
