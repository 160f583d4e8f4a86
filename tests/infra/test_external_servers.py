"""deploy/local/infra.py with KAFKA_BOOTSTRAP_SERVERS / MONGO_URL: every MongoDB URL form parses (pure),
an external server that answers is used, one that does not is reported in one line and nothing local
starts in its place; slow steps show progress and fail in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from medsupport_shared.testing import free_port
from medsupport_shared.testing.local_scripts import assert_one_line_failure, fake_tool, local_module, run_script

infra = local_module("infra")


@pytest.mark.parametrize(
    ("url", "hosts", "srv"),
    [
        ("mongodb://127.0.0.1:27017", (("127.0.0.1", 27017),), False),
        ("mongodb://db.internal", (("db.internal", 27017),), False),
        ("mongodb://a:1,b:2/?replicaSet=rs", (("a", 1), ("b", 2)), False),
        ("mongodb://app:s%40cr%3At@a.example:27017,b.example/medsupport?replicaSet=rs&tls=true",
         (("a.example", 27017), ("b.example", 27017)), False),
        ("mongodb://user:p@ss@host:27018/", (("host", 27018),), False),
        ("mongodb+srv://app:secret@cluster0.example.mongodb.net/?retryWrites=true", (("cluster0.example.mongodb.net", 27017),), True),
        ("mongodb://[::1]:27019,[fd00::2]/", (("::1", 27019), ("fd00::2", 27017)), False),
        ("mongodb://%2Ftmp%2Fmongodb-27017.sock", (("/tmp/mongodb-27017.sock", 0),), False),
    ],
)  # fmt: skip
def test_every_mongodb_url_form_gives_its_hosts(url, hosts, srv):
    servers = infra.parse_mongo_url(url)

    assert servers.hosts == hosts
    assert servers.srv is srv
    assert "secret" not in servers.describe() and "app" not in servers.describe()


@pytest.mark.parametrize(
    "url",
    [
        "mongodb://127.0.0.1:27017",
        "mongodb://a:1,b:2/?replicaSet=rs",
        "mongodb://app:s%40cr%3At@a.example:27017,b.example/medsupport?replicaSet=rs&tls=true",
        "mongodb://[::1]:27019,[fd00::2]/",
        "mongodb://%2Ftmp%2Fmongodb-27017.sock",
    ],
)
def test_the_hosts_are_those_pymongo_itself_connects_to(url):
    """infra.py runs before the virtualenv exists, so it parses with the standard library; PyMongo is the
    reference it must agree with."""
    from pymongo.uri_parser import parse_uri

    expected = tuple((host, port or 0) for host, port in parse_uri(url)["nodelist"])

    assert infra.parse_mongo_url(url).hosts == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://db:27017", "must start with mongodb://"),
        ("mongodb://", "names no host"),
        ("mongodb://db:port", "bad port"),
        ("mongodb://::1:27017", "needs brackets"),
        ("mongodb+srv://a.example,b.example", "exactly one host"),
        ("mongodb+srv://a.example:27017", "exactly one host"),
    ],
)
def test_a_malformed_mongodb_url_is_refused_with_the_reason(url, reason):
    with pytest.raises(ValueError, match=reason):
        infra.parse_mongo_url(url)


def test_kafka_bootstrap_servers_forms():
    assert infra.parse_kafka_servers("k1:9092, k2:9093").hosts == (("k1", 9092), ("k2", 9093))
    assert infra.parse_kafka_servers("PLAINTEXT://broker").hosts == (("broker", 9092),)
    with pytest.raises(ValueError, match="names no server"):
        infra.parse_kafka_servers(" , ")


@pytest.mark.parametrize("variable", ["KAFKA_BOOTSTRAP_SERVERS", "MONGO_URL"])
def test_an_external_server_that_does_not_answer_stops_the_run_and_nothing_local_starts(tmp_path, variable):
    port = free_port()
    value = f"127.0.0.1:{port}" if variable == "KAFKA_BOOTSTRAP_SERVERS" else f"mongodb://u:pw@127.0.0.1:{port}"
    only = "kafka" if variable == "KAFKA_BOOTSTRAP_SERVERS" else "mongo"

    done = run_script(
        "infra.py", "up", "--only", only, tmp_path=tmp_path, bin_dir=tmp_path / "bin", env={variable: value}
    )

    lines = assert_one_line_failure(done)
    assert lines == [
        f"[infra] error: {variable} points at 127.0.0.1:{port}, which does not answer as {only}; start it, "
        f"correct {variable}, or unset it to use a local {only}"
    ]
    assert not (tmp_path / "state").exists()  # no local server was started instead


@pytest.mark.integration
def test_a_replica_set_url_with_credentials_is_used_when_one_member_answers(tmp_path, infrastructure):
    host, port = infra.parse_mongo_url(infrastructure.mongo_url).hosts[0]
    url = f"mongodb://app:pw@127.0.0.1:{free_port()},{host}:{port}/medsupport?replicaSet=rs0&authSource=admin"

    done = run_script(
        "infra.py", "up", "--only", "mongo", tmp_path=tmp_path, bin_dir=tmp_path / "bin", env={"MONGO_URL": url}
    )

    assert done.returncode == 0, done.stderr
    assert "using running mongo at 127.0.0.1:" in done.stdout and "pw" not in done.stdout
    assert not (tmp_path / "state").exists()


def test_without_maven_the_kafka_download_stops_in_one_line(tmp_path):
    done = run_script("infra.py", "up", "--only", "kafka", tmp_path=tmp_path, bin_dir=tmp_path / "bin")

    assert assert_one_line_failure(done) == [
        "[infra] error: Maven (mvn) is needed to fetch Kafka's jars from Maven Central: sudo apt-get install maven"
    ]


def test_a_slow_failing_download_shows_progress_then_one_line_naming_its_log(tmp_path):
    fake_tool(
        tmp_path / "bin", "mvn", "echo Downloading kafka; /bin/sleep 1.5; echo '[ERROR] Could not resolve'; exit 1"
    )

    done = run_script(
        "infra.py",
        "up",
        "--only",
        "kafka",
        tmp_path=tmp_path,
        bin_dir=tmp_path / "bin",
        env={"MEDSUPPORT_PROGRESS_SECONDS": "0.4"},
    )

    lines = assert_one_line_failure(done)
    assert "[infra] fetching Apache Kafka" in done.stdout and "... still fetching Apache Kafka" in done.stdout
    assert len(lines) == 1 and "failed after" in lines[0] and "[ERROR] Could not resolve" in lines[0], lines
    log = lines[0].rsplit("full output in ", 1)[1]
    assert "Downloading kafka" in Path(log).read_text()
    assert not (tmp_path / "cache" / f"kafka-{infra.KAFKA_VERSION}" / ".complete").exists()
