#!/usr/bin/env python3
"""Local infrastructure without Docker: a real Kafka broker (KRaft) and a MongoDB-protocol server.

    python3 deploy/local/infra.py up       # fetch/build (cached), start, wait until both answer
    python3 deploy/local/infra.py down     # stop only what this script started (by pid file)
    python3 deploy/local/infra.py clean    # down, then delete the state dir (and a cluster kept outside it)
    python3 deploy/local/infra.py status

Kafka comes from Apache Kafka's artifacts on Maven Central (jars cached under the cache dir).
MongoDB: ``mongod`` when it is on PATH, else FerretDB built from the Go module proxy through the
small embedding ``main`` in ``deploy/local/ferretdb``, on a private PostgreSQL cluster this script
creates and starts from Debian's ``postgresql`` package (the default: Unix socket only, started as the
``postgres`` user when run as root; see ``postgres_home`` for where it lives) or, with
``MEDSUPPORT_MONGO_BACKEND=sqlite`` (``--mongo-backend sqlite``) or when PostgreSQL is not installed
(said in one line), on SQLite files under the state dir. A running server started on the other store
is restarted on the one asked for.

When ``KAFKA_BOOTSTRAP_SERVERS`` or ``MONGO_URL`` is set, that server is used and nothing local is
started for it; when it does not answer, this says so and stops. Any MongoDB URL form is accepted
(several hosts, ``mongodb+srv://``, credentials, a percent-encoded Unix socket).
Only the standard library is used, so this runs before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import getpass
import glob
import hashlib
import os
import pwd
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from steps import TICK_SECONDS, StepFailed, fail, run_step

HERE = Path(__file__).resolve().parent
KAFKA_VERSION = os.environ.get("MEDSUPPORT_KAFKA_VERSION", "3.9.1")
FERRETDB_VERSION = "v1.24.2"
CACHE = Path(os.environ.get("MEDSUPPORT_CACHE_DIR", Path.home() / ".cache" / "medsupport"))
STATE = Path(os.environ.get("MEDSUPPORT_STATE_DIR", HERE.parent.parent / ".state"))


def log(msg: str) -> None:
    print(f"[infra] {msg}", flush=True)


# ---------------------------------------------------------------- addresses

DEFAULT_MONGO_PORT = 27017
DEFAULT_KAFKA_PORT = 9092


@dataclass(frozen=True)
class Servers:
    """Where an external server is, without credentials (safe to print)."""

    hosts: tuple[tuple[str, int], ...]
    """(host, port); a Unix socket is (path, 0)."""
    srv: bool = False
    """``mongodb+srv://``: the one host is a DNS name whose SRV records list the members."""

    def describe(self) -> str:
        shown = ",".join(
            host if port == 0 else f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in self.hosts
        )
        return f"{shown} (DNS SRV)" if self.srv else shown


def _host_port(item: str, default_port: int, what: str) -> tuple[str, int]:
    if item.startswith("["):  # IPv6 literal
        host, _, rest = item[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else rest
    elif item.count(":") > 1:
        raise ValueError(f"{what}: IPv6 address {item!r} needs brackets, e.g. [::1]:{default_port}")
    else:
        host, _, port = item.partition(":")
    if not host:
        raise ValueError(f"{what}: empty host in {item!r}")
    if not port:
        return host, default_port
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{what}: bad port in {item!r}")
    return host, int(port)


def parse_mongo_url(url: str) -> Servers:
    """Hosts of a MongoDB connection string (https://www.mongodb.com/docs/manual/reference/connection-string/)."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep or scheme not in ("mongodb", "mongodb+srv"):
        raise ValueError("MONGO_URL must start with mongodb:// or mongodb+srv://")
    authority = rest.split("/", 1)[0].split("?", 1)[0]
    host_list = authority.rpartition("@")[2]  # user:password@ (reserved characters in them are %-encoded)
    if not host_list:
        raise ValueError("MONGO_URL names no host")
    hosts = []
    for item in host_list.split(","):
        if unquote(item).startswith("/"):
            hosts.append((unquote(item), 0))
        else:
            hosts.append(_host_port(item, DEFAULT_MONGO_PORT, "MONGO_URL"))
    srv = scheme == "mongodb+srv"
    if srv and (len(hosts) != 1 or ":" in host_list.strip("[]")):
        raise ValueError("MONGO_URL: mongodb+srv:// takes exactly one host name and no port")
    return Servers(tuple(hosts), srv=srv)


def parse_kafka_servers(value: str) -> Servers:
    """``host:port[,host:port...]``, optionally with a listener prefix such as ``PLAINTEXT://``."""
    items = [item.strip().rpartition("://")[2] for item in value.split(",") if item.strip()]
    if not items:
        raise ValueError("KAFKA_BOOTSTRAP_SERVERS names no server")
    return Servers(tuple(_host_port(item, DEFAULT_KAFKA_PORT, "KAFKA_BOOTSTRAP_SERVERS") for item in items))


def external_targets() -> tuple[Servers | None, Servers | None]:
    """The Kafka and MongoDB named by the environment (None: not set, so the local ones are used)."""
    servers, url = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", ""), os.environ.get("MONGO_URL", "")
    return (parse_kafka_servers(servers) if servers.strip() else None, parse_mongo_url(url) if url.strip() else None)


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


def _connect(host: str, port: int, timeout: float) -> socket.socket:
    if port == 0:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(host)
        except OSError:
            sock.close()
            raise
        return sock
    return socket.create_connection((host, port), timeout=timeout)


def mongo_answers(host: str, port: int, timeout: float = 2.0) -> bool:
    """Send an OP_MSG ``ping`` and check the reply carries ``ok: 1``."""
    doc = _bson_ping()
    message = struct.pack("<I", 0) + b"\x00" + doc  # flagBits, section kind 0, body
    header = struct.pack("<iiii", 16 + len(message), 1, 0, 2013)
    try:
        with _connect(host, port, timeout) as sock:
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
    started = time.monotonic()
    deadline, next_note = started + timeout, started + TICK_SECONDS
    while time.monotonic() < deadline:
        if probe():
            return
        if time.monotonic() >= next_note:
            log(f"  ... waiting for {what} to answer ({time.monotonic() - started:.0f}s)")
            next_note += TICK_SECONDS
        if proc is not None and proc.poll() is not None:
            raise fail("infra", f"{what} exited during start-up; see {STATE / (what + '.log')}")
        time.sleep(0.3)
    raise fail("infra", f"{what} did not answer within {timeout:.0f}s; see {STATE / (what + '.log')}")


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
        proc_stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    markers = {str(STATE).encode(), str(postgres_home()).encode()}  # a cluster of its own lives elsewhere
    return any(marker in cmdline for marker in markers) and ") Z " not in proc_stat


def _spawn(
    name: str, argv: list[str], env: dict[str, str] | None = None, user: str | None = None
) -> subprocess.Popen[bytes]:
    STATE.mkdir(parents=True, exist_ok=True)
    log_file = open(STATE / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        argv,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, **(env or {})},
        user=user,
        group=user,
        extra_groups=[] if user else None,
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


def _kafka_home() -> Path:
    return CACHE / f"kafka-{KAFKA_VERSION}"


def kafka_jars_cached() -> bool:
    return (_kafka_home() / ".complete").exists()


def kafka_jars() -> Path:
    home = _kafka_home()
    lib = home / "lib"
    if kafka_jars_cached():
        return lib
    if shutil.which("mvn") is None:
        raise fail(
            "infra", "Maven (mvn) is needed to fetch Kafka's jars from Maven Central: sudo apt-get install maven"
        )
    home.mkdir(parents=True, exist_ok=True)
    (home / "pom.xml").write_text(POM.format(version=KAFKA_VERSION))
    argv = ["mvn", "-B", "-ntp", "-f", str(home / "pom.xml"), "dependency:copy-dependencies"]
    argv += ["-DincludeScope=runtime", f"-DoutputDirectory={lib}"]
    label = f"fetching Apache Kafka {KAFKA_VERSION} jars from Maven Central with Maven (first run only)"
    run_step("infra", label, argv, home / "mvn.log")
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


def _ferretdb_path() -> Path:
    """Built once per version of the embedding ``main`` (its sources are hashed into the cache path)."""
    sources = hashlib.sha256()
    for name in ("main.go", "go.mod", "go.sum"):
        sources.update((HERE / "ferretdb" / name).read_bytes())
    return CACHE / f"ferretdb-{FERRETDB_VERSION}-{sources.hexdigest()[:12]}" / "ferretdb"


def ferretdb_cached() -> bool:
    return _ferretdb_path().exists()


def ferretdb_binary() -> Path:
    binary = _ferretdb_path()
    if binary.exists():
        return binary
    if shutil.which("go") is None:
        raise fail("infra", "Go is needed to build FerretDB (no mongod on PATH): https://go.dev/doc/install")
    binary.parent.mkdir(parents=True, exist_ok=True)
    # GOTOOLCHAIN=auto: a Go older than go.mod's (1.21+) fetches the right toolchain through the proxy
    env = {"GOTOOLCHAIN": "auto", **os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-buildvcs=false"}
    scratch = binary.with_name("ferretdb.partial")
    label = f"building FerretDB {FERRETDB_VERSION} with Go (first run only; a few minutes on 2 cores)"
    run_step(
        "infra", label, ["go", "build", "-o", str(scratch), "."], binary.parent / "build.log", HERE / "ferretdb", env
    )
    scratch.replace(binary)  # only a complete build counts as cached
    return binary


# ---------------------------------------------------------------- postgresql (FerretDB's default backend)

MONGO_BACKENDS = ("sqlite", "postgresql")
POSTGRES_HINT = "sudo apt-get install postgresql"
SOCKET_PATH_MAX = 100
"""A Unix socket's path must fit in 108 bytes (sun_path); a longer state dir moves the cluster (below)."""


def postgres_bin_dirs() -> list[Path]:
    """Where PostgreSQL's server binaries may be: ``MEDSUPPORT_POSTGRES_BIN`` when set (another install, or
    none at all to choose the fallback), else Debian's package (newest first; ``initdb`` is not on PATH there),
    then PATH."""
    if "MEDSUPPORT_POSTGRES_BIN" in os.environ:
        return [Path(os.environ["MEDSUPPORT_POSTGRES_BIN"])]
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parts[-2]), reverse=True)
    on_path = shutil.which("initdb")
    return [Path(p) for p in found] + ([Path(on_path).parent] if on_path else [])


def postgres_missing() -> str | None:
    """Why FerretDB cannot run on PostgreSQL here (None: it can)."""
    if not any((d / "initdb").exists() and (d / "postgres").exists() for d in postgres_bin_dirs()):
        where = os.environ.get("MEDSUPPORT_POSTGRES_BIN") or "/usr/lib/postgresql/*/bin or PATH"
        return f"PostgreSQL is not installed (no initdb in {where})"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run PostgreSQL as"
    return None


def _postgres_bin() -> Path:
    found = next((d for d in postgres_bin_dirs() if (d / "initdb").exists()), None)
    if found is None:
        raise fail("infra", f"MEDSUPPORT_MONGO_BACKEND=postgresql, but {postgres_missing()}: {POSTGRES_HINT}")
    return found


def _postgres_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as the ``postgres`` user the package creates."""
    return "postgres" if os.geteuid() == 0 else None


def _enterable_by(user: str | None, path: Path) -> bool:
    """Whether ``user`` may reach ``path`` (every directory on the way searchable by it; mode bits only)."""
    if user is None:
        return True
    entry = pwd.getpwnam(user)
    for part in (path, *path.parents):
        if not part.exists():
            continue
        info = part.stat()
        bit = 0o100 if info.st_uid == entry.pw_uid else 0o010 if info.st_gid == entry.pw_gid else 0o001
        if not info.st_mode & bit:
            return False
    return True


POSTGRES_HOME_POINTER = "postgres-home"
"""In the state dir: the directory of its own the cluster lives in when the state dir cannot hold it."""


def postgres_home() -> Path:
    """Where the cluster lives: ``postgres-data`` and the ``postgres-run`` socket directory.

    The state dir itself when PostgreSQL's user may enter it, else a private directory of its own under the
    system's temporary directory (pytest's per-user tmp dirs and ``/root`` are closed to ``postgres``, and a
    deep state dir would make the socket's path too long): created 0700 and owned by that user, named in
    the state dir (and naming it back), kept across ``down`` like the state dir's data and removed by
    ``clean``, or by a later ``up`` once its state dir is gone (a run that was killed before ``clean``)."""
    pointer = STATE / POSTGRES_HOME_POINTER
    if pointer.exists():
        return Path(pointer.read_text().strip())
    return STATE


def _owned_privately(path: Path, user: str | None) -> bool:
    """A real directory of ``user`` (or ours) that nobody else may enter: a recorded cluster directory under
    /tmp is only reused when it is still the one this script created."""
    try:
        info = path.lstat()
    except OSError:
        return False
    uid = pwd.getpwnam(user).pw_uid if user else os.geteuid()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == uid and not info.st_mode & 0o077


POSTGRES_HOME_PREFIX = "medsupport-pg-"


ORPHAN_AFTER_SECONDS = 600
"""A cluster directory is only judged after this long untouched: another run may be creating it right now."""


def _remove_orphaned_postgres_homes(base: Path, user: str | None) -> None:
    """Cluster directories whose state dir no longer names them (removed without ``clean``, e.g. pytest's
    old temporary directories) and whose server is not running."""
    for home in base.glob(f"{POSTGRES_HOME_PREFIX}*"):
        try:
            state = Path((home / "state-dir").read_text().strip())
            named = (state / POSTGRES_HOME_POINTER).read_text().strip() == str(home)
        except OSError:
            named = False
        if named or not _owned_privately(home, user) or _postmaster_alive(home / "postgres-data"):
            continue
        if time.time() - home.stat().st_mtime < ORPHAN_AFTER_SECONDS:
            continue
        log(f"removing {home}, the PostgreSQL cluster of a state dir that is gone")
        shutil.rmtree(home, ignore_errors=True)


def _postmaster_alive(data: Path) -> bool:
    try:
        os.kill(int((data / "postmaster.pid").read_text().split()[0]), 0)
    except PermissionError:  # another user's process
        return True
    except (OSError, ValueError, IndexError):
        return False
    return True


def _place_postgres_home(port: int) -> Path:
    STATE.mkdir(parents=True, exist_ok=True)
    home, user = postgres_home(), _postgres_user()
    if home != STATE and _owned_privately(home, user):
        return home
    (STATE / POSTGRES_HOME_POINTER).unlink(missing_ok=True)  # none yet, or wiped with /tmp (a reboot)
    socket_path = STATE / "postgres-run" / f".s.PGSQL.{port}"
    if _enterable_by(user, STATE) and len(str(socket_path)) <= SOCKET_PATH_MAX:
        return STATE
    base = next((Path(p) for p in (tempfile.gettempdir(), "/tmp") if _enterable_by(user, Path(p))), None)
    if base is None:
        raise fail("infra", f"PostgreSQL runs as '{user}', which can enter neither {STATE} nor /tmp")
    _remove_orphaned_postgres_homes(base, user)
    home = Path(tempfile.mkdtemp(prefix=POSTGRES_HOME_PREFIX, dir=base))  # mode 0700, a name nobody could take
    (home / "state-dir").write_text(str(STATE))
    if user:
        shutil.chown(home, user, user)
    (STATE / POSTGRES_HOME_POINTER).write_text(str(home))
    who = user or getpass.getuser()
    log(f"PostgreSQL's cluster goes in {home} ({who} cannot use {STATE} for it; `infra.py clean` removes it)")
    return home


def postgres_socket_dir() -> Path:
    return postgres_home() / "postgres-run"


def postgres_url(port: int) -> str:
    """FerretDB's connection: the cluster's Unix socket (no TCP listener, so no password needed or exposed)."""
    user = _postgres_user() or getpass.getuser()
    return f"postgres://{user}@/ferretdb?host={postgres_socket_dir()}&port={port}"


def postgres_answers(port: int) -> bool:
    return (postgres_socket_dir() / f".s.PGSQL.{port}").exists() and subprocess.run(
        [str(_postgres_bin() / "pg_isready"), "-q", "-h", str(postgres_socket_dir()), "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    ).returncode == 0


def start_postgres(port: int) -> None:
    """A private cluster for FerretDB: durability traded for speed (a local development and test store),
    ``fsync=off`` as well when MEDSUPPORT_POSTGRES_FSYNC=off (tests only: a crash may corrupt it)."""
    if _alive(STATE / "postgres.pid") and postgres_answers(port):
        log(f"postgresql already running (socket {postgres_socket_dir()}, port {port})")
        return
    if problem := postgres_missing():
        raise fail("infra", f"MEDSUPPORT_MONGO_BACKEND=postgresql, but {problem}: {POSTGRES_HINT}")
    bin_dir, user, home = _postgres_bin(), _postgres_user(), _place_postgres_home(port)
    data, run_dir = home / "postgres-data", home / "postgres-run"
    for path in (data, run_dir):
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        if user:
            shutil.chown(path, user, user)
    if not (data / "PG_VERSION").exists():
        log(f"creating a PostgreSQL cluster in {data}" + (" (first run only)" if home == STATE else ""))
        argv = [str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "--encoding=UTF8", "--locale=C"]
        with open(STATE / "postgres-initdb.log", "ab") as out:
            subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, check=True, user=user)
    settings = {
        "listen_addresses": "",  # Unix socket only: nothing on the network, the socket directory is private
        "unix_socket_directories": str(run_dir),
        "port": str(port),
        "synchronous_commit": "off",  # a commit returns before its WAL is flushed: a crash loses < 1 s of writes
        "fsync": os.environ.get("MEDSUPPORT_POSTGRES_FSYNC", "on"),
        # FerretDB's prepared statements name the field as a parameter: plan each execution with its values,
        # or a generic plan (chosen after five runs) cannot use the GIN indexes its embedding main adds
        "plan_cache_mode": "force_custom_plan",
        "jit": "off",  # compiling the plans of FerretDB's unindexed scans costs more than it saves here
        "shared_buffers": "128MB",
        "max_connections": "100",
    }
    argv = [str(bin_dir / "postgres"), "-D", str(data)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    log(f"starting PostgreSQL {bin_dir.parent.name} (socket {run_dir}, port {port})")
    proc = _spawn("postgres", argv, user=user)
    wait_until(lambda: postgres_answers(port), "postgres", 60, proc)
    created = subprocess.run(
        [str(bin_dir / "createdb"), "-h", str(run_dir), "-p", str(port), "ferretdb"],
        capture_output=True,
        text=True,
        check=False,
        user=user,
    )
    if created.returncode != 0 and "already exists" not in created.stderr:
        raise fail("infra", f"createdb ferretdb failed: {created.stderr.strip()}")


def choose_mongo_backend(asked: str | None) -> str:
    """FerretDB's store: PostgreSQL, the faster one, unless SQLite is asked for; when PostgreSQL is missing,
    SQLite with one line saying why, unless PostgreSQL was asked for by name (then one line and stop)."""
    if asked and asked not in MONGO_BACKENDS:
        raise fail("infra", f"MEDSUPPORT_MONGO_BACKEND={asked!r}: use one of {', '.join(MONGO_BACKENDS)}")
    if asked == "sqlite":
        return "sqlite"
    problem = postgres_missing()
    if problem is None:
        return "postgresql"
    if asked == "postgresql":
        raise fail("infra", f"MEDSUPPORT_MONGO_BACKEND=postgresql, but {problem}: {POSTGRES_HINT}")
    log(
        f"FerretDB runs on SQLite, not on the faster PostgreSQL, because {problem}; for the faster store: "
        f"{POSTGRES_HINT} (`make up` and `make test` do it themselves as root with apt-get), "
        "or set MEDSUPPORT_MONGO_BACKEND=sqlite to choose SQLite"
    )
    return "sqlite"


def running_mongo_backend() -> str:
    """What the running local server was started on: recorded at its start (a server started before the
    record existed is read off its command line)."""
    recorded = STATE / "mongo.backend"
    if recorded.exists():
        return recorded.read_text().strip()
    try:
        argv = Path(f"/proc/{_pid(STATE / 'mongo.pid')}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "unknown"
    if b"postgresql" in argv:
        return "postgresql"
    return "mongod" if any(arg.endswith(b"mongod") for arg in argv) else "sqlite"


def start_mongo(port: int, asked: str | None = None, postgres_port: int = 5433) -> None:
    mongod = shutil.which("mongod")
    backend = "mongod" if mongod else choose_mongo_backend(asked)
    if _alive(STATE / "mongo.pid") and mongo_answers("127.0.0.1", port):
        running = running_mongo_backend()
        if running == backend:
            log(f"mongo already running on 127.0.0.1:{port} ({backend})")
            return
        log(f"mongo on 127.0.0.1:{port} runs on {running}, not {backend}: restarting it on {backend}")
        _stop("mongo")
        if running == "postgresql":
            _stop("postgres")
    data = STATE / "mongo-data"
    data.mkdir(parents=True, exist_ok=True)
    if mongod:
        log(f"starting mongod on 127.0.0.1:{port}")
        proc = _spawn("mongo", [mongod, "--bind_ip", "127.0.0.1", "--port", str(port), "--dbpath", str(data)])
    else:
        binary = ferretdb_binary()
        if backend == "postgresql":
            start_postgres(postgres_port)
            where = ["-backend", "postgresql", "-postgresql-url", postgres_url(postgres_port)]
        else:
            where = ["-dir", f"{data}/"]
        log(f"starting FerretDB {FERRETDB_VERSION} ({backend}) on 127.0.0.1:{port}")
        proc = _spawn("mongo", [str(binary), "-listen", f"127.0.0.1:{port}", *where])
    (STATE / "mongo.backend").write_text(backend)
    wait_until(lambda: mongo_answers("127.0.0.1", port), "mongo", 60, proc)


# ---------------------------------------------------------------- commands


def use_external(name: str, variable: str, servers: Servers, answers: object) -> str:
    """The external server when one of its hosts answers; otherwise stop (never start a local one instead)."""
    if servers.srv:  # resolving SRV records needs a DNS library; the services' own client checks it
        log(f"using {name} at {servers.describe()} from {variable} (not probed)")
        return servers.describe()
    if any(answers(host, port) for host, port in servers.hosts):  # type: ignore[operator]
        log(f"using running {name} at {servers.describe()} from {variable}")
        return servers.describe()
    raise fail(
        "infra",
        f"{variable} points at {servers.describe()}, which does not answer as {name}; start it, correct "
        f"{variable}, or unset it to use a local {name}",
    )


def up(args: argparse.Namespace) -> None:
    kafka, mongo = external_targets()
    where = {"kafka": f"127.0.0.1:{args.kafka_port}", "mongo": f"127.0.0.1:{args.mongo_port}"}
    if args.only in (None, "kafka"):
        if kafka:
            where["kafka"] = use_external("kafka", "KAFKA_BOOTSTRAP_SERVERS", kafka, kafka_answers)
        else:
            start_kafka(args.kafka_port, args.kafka_controller_port)
    if args.only in (None, "mongo"):
        if mongo:
            where["mongo"] = use_external("mongo", "MONGO_URL", mongo, mongo_answers)
        else:
            start_mongo(args.mongo_port, args.mongo_backend, args.postgres_port)
    log(f"infrastructure ready: kafka {where['kafka']}, mongo {where['mongo']}")


def down(args: argparse.Namespace) -> None:
    for name in ("mongo", "postgres", "kafka"):
        if args.only in (None, "mongo" if name == "postgres" else name):
            _stop(name)
    if args.only in (None, "mongo"):
        (STATE / "mongo.backend").unlink(missing_ok=True)
    log("stopped")


def clean(args: argparse.Namespace) -> None:
    """``down``, then delete what the servers stored: the state dir and a PostgreSQL cluster kept outside it."""
    args.only = None
    down(args)
    if (home := postgres_home()) != STATE:
        shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(STATE, ignore_errors=True)
    log(f"removed {STATE}" + (f" and {home}" if home != STATE else ""))


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
    parser.add_argument("command", choices=["up", "down", "clean", "status"])
    parser.add_argument("--only", choices=["kafka", "mongo"], help="act on one server only")
    parser.add_argument("--kafka-port", type=int, default=int(os.environ.get("MEDSUPPORT_KAFKA_PORT", 9092)))
    parser.add_argument(
        "--kafka-controller-port",
        type=int,
        default=int(os.environ.get("MEDSUPPORT_KAFKA_CONTROLLER_PORT", 9093)),
    )
    parser.add_argument("--mongo-port", type=int, default=int(os.environ.get("MEDSUPPORT_MONGO_PORT", 27017)))
    parser.add_argument(
        "--mongo-backend",
        choices=MONGO_BACKENDS,
        default=os.environ.get("MEDSUPPORT_MONGO_BACKEND") or None,
        help="FerretDB's storage (when no mongod is on PATH); default postgresql when installed, else sqlite",
    )
    parser.add_argument("--postgres-port", type=int, default=int(os.environ.get("MEDSUPPORT_POSTGRES_PORT", 5433)))
    args = parser.parse_args()
    try:
        {"up": up, "down": down, "clean": clean, "status": status}[args.command](args)
    except StepFailed:
        raise
    except ValueError as exc:  # a malformed KAFKA_BOOTSTRAP_SERVERS or MONGO_URL
        raise fail("infra", str(exc)) from None
    except subprocess.CalledProcessError as exc:
        raise fail(
            "infra", f"{' '.join(map(str, exc.cmd[:3]))} ... failed (exit {exc.returncode}); logs under {STATE}"
        ) from None
    except OSError as exc:
        raise fail("infra", f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from None
    except KeyboardInterrupt:
        raise fail("infra", "interrupted") from None


if __name__ == "__main__":
    main()
