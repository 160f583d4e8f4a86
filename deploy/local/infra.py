#!/usr/bin/env python3
"""Local infrastructure without Docker: a real Kafka broker (KRaft) and a MongoDB-protocol server.

    python3 deploy/local/infra.py up       # fetch/build (cached), start, wait until both answer
    python3 deploy/local/infra.py down     # stop only what this script started (by pid file)
    python3 deploy/local/infra.py status

Kafka comes from Apache Kafka's artifacts on Maven Central (jars cached under the cache dir).
MongoDB: ``mongod`` when it is on PATH, else FerretDB (SQLite backend) built from the Go module
proxy through the small embedding ``main`` in ``deploy/local/ferretdb``.

When ``KAFKA_BOOTSTRAP_SERVERS`` and ``MONGO_URL`` point at servers that answer, nothing starts.
Only the standard library is used, so this runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

HERE = Path(__file__).resolve().parent
KAFKA_VERSION = os.environ.get("MEDSUPPORT_KAFKA_VERSION", "3.9.1")
FERRETDB_VERSION = "v1.24.2"
CACHE = Path(os.environ.get("MEDSUPPORT_CACHE_DIR", Path.home() / ".cache" / "medsupport"))
STATE = Path(os.environ.get("MEDSUPPORT_STATE_DIR", HERE.parent.parent / ".state"))


def log(msg: str) -> None:
    print(f"[infra] {msg}", flush=True)


# ---------------------------------------------------------------- probes


def kafka_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Send a Kafka ApiVersions v0 request and check for a well-formed, error-free answer."""
    client_id = b"medsupport-infra"
    body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(struct.pack(">i", len(body)) + body)
            size = struct.unpack(">i", _recv_exact(sock, 4))[0]
            payload = _recv_exact(sock, size)
            correlation_id, error_code = struct.unpack(">ih", payload[:6])
            return correlation_id == 1 and error_code == 0
    except (OSError, struct.error):
        return False


def _bson_ping() -> bytes:
    def element_int(name: str, value: int) -> bytes:
        return b"\x10" + name.encode() + b"\x00" + struct.pack("<i", value)

    def element_str(name: str, value: str) -> bytes:
        raw = value.encode() + b"\x00"
        return b"\x02" + name.encode() + b"\x00" + struct.pack("<i", len(raw)) + raw

    elements = element_int("ping", 1) + element_str("$db", "admin")
    return struct.pack("<i", len(elements) + 5) + elements + b"\x00"


def mongo_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Send an OP_MSG ``ping`` and check the reply carries ``ok: 1``."""
    doc = _bson_ping()
    message = struct.pack("<I", 0) + b"\x00" + doc  # flagBits, section kind 0, body
    header = struct.pack("<iiii", 16 + len(message), 1, 0, 2013)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(header + message)
            length = struct.unpack("<i", _recv_exact(sock, 4))[0]
            reply = _recv_exact(sock, length - 4)
            return b"ok\x00" in reply
    except (OSError, struct.error):
        return False


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def wait_until(probe, what: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited during start-up; see its log under {STATE}")
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer within {timeout:.0f}s; see its log under {STATE}")


# ---------------------------------------------------------------- processes


def _pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid_file: Path) -> bool:
    pid = _pid(pid_file)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie or a reused pid for another program does not count
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return str(STATE).encode() in cmdline and ") Z " not in stat


def _spawn(name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    STATE.mkdir(parents=True, exist_ok=True)
    log_file = open(STATE / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        argv,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **(env or {})},
    )
    (STATE / f"{name}.pid").write_text(str(proc.pid))
    return proc


def _stop(name: str, grace: float = 20.0) -> None:
    pid_file = STATE / f"{name}.pid"
    pid = _pid(pid_file)
    if pid is None or not _alive(pid_file):
        pid_file.unlink(missing_ok=True)
        return
    log(f"stopping {name} (pid {pid})")
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and _alive(pid_file):
        time.sleep(0.2)
    if _alive(pid_file):
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink(missing_ok=True)


# ---------------------------------------------------------------- kafka

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>medsupport</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{version}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId>
      <version>1.7.36</version></dependency>
  </dependencies>
</project>
"""

LOG4J = """log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.kafka.server.KafkaServer=INFO
"""


def kafka_jars() -> Path:
    home = CACHE / f"kafka-{KAFKA_VERSION}"
    lib = home / "lib"
    if (home / ".complete").exists():
        return lib
    if shutil.which("mvn") is None:
        raise SystemExit("Maven (mvn) is needed to fetch Kafka's jars from Maven Central")
    log(f"fetching Apache Kafka {KAFKA_VERSION} jars from Maven Central (first run only)")
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(POM.format(version=KAFKA_VERSION))
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(home / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={lib}",
        ],
        check=True,
    )
    (home / ".complete").write_text("ok")
    return lib


def start_kafka(port: int, controller_port: int) -> None:
    pid_file = STATE / "kafka.pid"
    if _alive(pid_file) and kafka_answers("127.0.0.1", port):
        log(f"kafka already running on 127.0.0.1:{port}")
        return
    lib = kafka_jars()
    STATE.mkdir(parents=True, exist_ok=True)
    data = STATE / "kafka-data"
    props = STATE / "kafka-server.properties"
    (STATE / "kafka-log4j.properties").write_text(LOG4J)
    props.write_text(
        "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{controller_port}",
                f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
                f"log.dirs={data}",
                "num.partitions=3",
                "offsets.topic.replication.factor=1",
                "offsets.topic.num.partitions=3",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=true",
                "log.retention.hours=168",
                "",
            ]
        )
    )
    java = ["java", f"-Dlog4j.configuration=file:{STATE / 'kafka-log4j.properties'}", "-cp", f"{lib}/*"]
    if not (data / "meta.properties").exists():
        data.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                *java,
                "kafka.tools.StorageTool",
                "format",
                "-t",
                str(uuid.uuid4()).replace("-", "")[:22],
                "-c",
                str(props),
                "--ignore-formatted",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    log(f"starting kafka {KAFKA_VERSION} on 127.0.0.1:{port}")
    heap = os.environ.get("MEDSUPPORT_KAFKA_HEAP", "1g")
    proc = _spawn(
        "kafka", [java[0], f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", *java[1:], "kafka.Kafka", str(props)]
    )
    wait_until(lambda: kafka_answers("127.0.0.1", port), "kafka", 120, proc)


# ---------------------------------------------------------------- mongo


def ferretdb_binary() -> Path:
    """Built once per version of the embedding ``main`` (its sources are hashed into the cache path)."""
    sources = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum"):
        sources.update((HERE / "ferretdb" / name).read_bytes())
    binary = CACHE / f"ferretdb-{FERRETDB_VERSION}-{sources.hexdigest()[:12]}" / "ferretdb"
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        raise SystemExit("Go is needed to build FerretDB (no mongod on PATH)")
    log(f"building FerretDB {FERRETDB_VERSION} with Go (first run only)")
    binary.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["go", "build", "-o", str(binary), "."],
        cwd=HERE / "ferretdb",
        check=True,
        env={**os.environ, "CGO_ENABLED": "0"},
    )
    return binary


def start_mongo(port: int) -> None:
    pid_file = STATE / "mongo.pid"
    if _alive(pid_file) and mongo_answers("127.0.0.1", port):
        log(f"mongo already running on 127.0.0.1:{port}")
        return
    data = STATE / "mongo-data"
    data.mkdir(parents=True, exist_ok=True)
    mongod = shutil.which("mongod")
    if mongod:
        log(f"starting mongod on 127.0.0.1:{port}")
        proc = _spawn("mongo", [mongod, "--bind_ip", "127.0.0.1", "--port", str(port), "--dbpath", str(data)])
    else:
        binary = ferretdb_binary()
        log(f"starting FerretDB {FERRETDB_VERSION} (SQLite) on 127.0.0.1:{port}")
        proc = _spawn("mongo", [str(binary), "-listen", f"127.0.0.1:{port}", "-dir", f"{data}/"])
    wait_until(lambda: mongo_answers("127.0.0.1", port), "mongo", 60, proc)


# ---------------------------------------------------------------- commands


def _external() -> tuple[tuple[str, int] | None, tuple[str, int] | None]:
    kafka = mongo = None
    if servers := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        host, _, port = servers.split(",")[0].rpartition(":")
        kafka = (host or "127.0.0.1", int(port or 9092))
    if url := os.environ.get("MONGO_URL"):
        parsed = urlparse(url)
        mongo = (parsed.hostname or "127.0.0.1", parsed.port or 27017)
    return kafka, mongo


def up(args: argparse.Namespace) -> None:
    kafka, mongo = _external()
    if args.only in (None, "kafka"):
        if kafka and kafka_answers(*kafka):
            log(f"using running kafka at {kafka[0]}:{kafka[1]}")
        else:
            start_kafka(args.kafka_port, args.kafka_controller_port)
    if args.only in (None, "mongo"):
        if mongo and mongo_answers(*mongo):
            log(f"using running mongo at {mongo[0]}:{mongo[1]}")
        else:
            start_mongo(args.mongo_port)
    log(f"infrastructure ready: kafka 127.0.0.1:{args.kafka_port}, mongo 127.0.0.1:{args.mongo_port}")


def down(args: argparse.Namespace) -> None:
    for name in ("mongo", "kafka"):
        if args.only in (None, name):
            _stop(name)
    log("stopped")


def status(args: argparse.Namespace) -> None:
    rows = [
        ("kafka", _alive(STATE / "kafka.pid"), kafka_answers("127.0.0.1", args.kafka_port)),
        ("mongo", _alive(STATE / "mongo.pid"), mongo_answers("127.0.0.1", args.mongo_port)),
    ]
    for name, started, answers in rows:
        print(f"{name:6} started-here={'yes' if started else 'no':3} answers={'yes' if answers else 'no'}")
    if not all(answers for *_, answers in rows):
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--only", choices=["kafka", "mongo"], help="act on one server only")
    parser.add_argument("--kafka-port", type=int, default=int(os.environ.get("MEDSUPPORT_KAFKA_PORT", 9092)))
    parser.add_argument(
        "--kafka-controller-port",
        type=int,
        default=int(os.environ.get("MEDSUPPORT_KAFKA_CONTROLLER_PORT", 9093)),
    )
    parser.add_argument("--mongo-port", type=int, default=int(os.environ.get("MEDSUPPORT_MONGO_PORT", 27017)))
    args = parser.parse_args()
    {"up": up, "down": down, "status": status}[args.command](args)


if __name__ == "__main__":
    main()
