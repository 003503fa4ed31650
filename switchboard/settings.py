"""The node's configuration: the core sections of the TOML file, validated at start.

Packages with sections of their own (`[sip]`, `[[ivr]]`, `[locales]`) read them from
`Settings.reader` with the same `ConfigReader`, so every fault has the same shape.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from pydantic import ValidationError

from regions.model import RegionConfig
from router.definitions import queue_from
from router.model import QueueConfig
from router.sessions import SessionPolicy
from switchboard.common.configfile import ConfigReader
from switchboard.common.hours import CLOCK_EXPECTED, check_timezone, parse_clock
from switchboard.common.ids import first_fault
from switchboard.http.schemas import QueueDefinition, QueuePath

# The embedded server's AOF fsync policies: once a second, after every write, as the
# kernel likes.
APPENDFSYNC = ("everysec", "always", "no")
# The `[redis] url` schemes `switchboard.redisconn.connect` reads: its own Sentinel and
# Cluster forms, and redis-py's (plain, TLS, a Unix socket). redisconn does not export
# the list: keep the two in step.
REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel", "redis+cluster")
REDIS_URL_EXPECTED = (
    "a Redis URL: redis://host:port/db, rediss://host:port/db, unix:///path/to/socket, "
    "redis+sentinel://host:port[,host:port]/service[/db] or redis+cluster://host:port"
)
# Ports: 1-65535; `[http] port = 0` (or --http-port 0) takes any free port, which the
# node logs.
MAX_PORT = 65535


@dataclass(frozen=True)
class RedisConfig:
    """`url` None means: start an embedded server keeping its data in `data_dir`."""

    url: str | None = None
    data_dir: str = "var/redis"
    key_prefix: str = "sb"
    # The embedded server's AOF fsync policy (everysec, always, no); an external Redis
    # keeps its own.
    appendfsync: str = "everysec"
    # The node's connections to Redis (to each Cluster node), and how long a command
    # waits for one when all are in use before it fails (the HTTP API answers 503).
    max_connections: int = 100
    pool_timeout_s: float = 5.0


@dataclass(frozen=True)
class RoutingConfig:
    # The ring time (`ring_s`) of a queue that sets none.
    offer_timeout_s: float = 15.0
    tick_ms: int = 250
    max_chats: int = 3
    heartbeat_ttl_s: float = 5.0


# The default of `[http] metrics_open_to`: a Prometheus on the node's own host scrapes
# without a token, as the design's `GET /metrics` promises; anyone else shows one.
THIS_HOST = ("127.0.0.0/8", "::1")


@dataclass
class Settings:
    path: Path
    node_id: str
    region: str
    http_host: str
    http_port: int
    redis: RedisConfig
    routing: RoutingConfig
    regions: list[RegionConfig]
    queues: list[QueueConfig]
    reader: ConfigReader = field(repr=False)
    auth: SessionPolicy = field(default_factory=SessionPolicy)
    # Prometheus' bearer token for /metrics ('' : supervisors' and admins' tokens only).
    metrics_token: str = field(default="", repr=False)
    # `[http] trusted_proxies`: the load balancers and reverse proxies whose
    # X-Forwarded-For names the client (empty: the TCP peer is the client).
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # `[http] metrics_open_to`: clients whose scrape of /metrics needs no token.
    metrics_open_to: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()

    def queue(self, name: str) -> QueueConfig | None:
        return next((queue for queue in self.queues if queue.name == name), None)


def load_settings(
    path: Path,
    *,
    region: str | None = None,
    node_id: str | None = None,
    http_port: int | None = None,
    defer_faults: bool = False,
) -> Settings:
    """Read and validate a configuration file; raises ConfigError listing every fault.
    With `defer_faults`, the faults stay in `settings.reader.faults` for a caller that
    reads more sections of the same file first (a node reports them all at once)."""
    reader = ConfigReader.open(path)
    node = reader.section("node", required=True)
    http = reader.section("http")
    redis = reader.section("redis")
    routing = reader.section("routing")
    auth = reader.section("auth")

    # Read even when a flag overrides them, so that each key is checked and known.
    configured_id, configured_region = node.string("id"), node.string("region")
    configured_port = http.integer("port", 8080, minimum=0, maximum=MAX_PORT)
    routing_config = RoutingConfig(
        offer_timeout_s=routing.number("offer_timeout_s", 15.0, minimum=1),
        tick_ms=routing.integer("tick_ms", 250, minimum=10),
        max_chats=routing.integer("max_chats", 3, minimum=1),
        heartbeat_ttl_s=routing.number("heartbeat_ttl_s", 5.0, minimum=1),
    )
    regions = [_region(section) for section in reader.sections("regions", required=True)]
    queues = [
        _queue(section, routing_config.offer_timeout_s)
        for section in reader.sections("queues", required=True)
    ]
    settings = Settings(
        path=path,
        node_id=node_id or configured_id,
        region=region or configured_region,
        http_host=http.string("host", "127.0.0.1"),
        http_port=http_port if http_port is not None else configured_port,
        redis=RedisConfig(
            url=_redis_url(redis),
            data_dir=redis.string("data_dir", "var/redis"),
            key_prefix=redis.string("key_prefix", "sb"),
            appendfsync=redis.string("appendfsync", "everysec", choices=APPENDFSYNC),
            max_connections=redis.integer(
                "max_connections", RedisConfig.max_connections, minimum=10
            ),
            pool_timeout_s=redis.number(
                "pool_timeout_s", RedisConfig.pool_timeout_s, minimum=0.1, maximum=60
            ),
        ),
        routing=routing_config,
        regions=_named(regions, "regions", reader),
        queues=_named(queues, "queues", reader),
        reader=reader,
        auth=_auth(auth),
        metrics_token=_metrics_token(http),
        trusted_proxies=_networks(http, "trusted_proxies", []),
        metrics_open_to=_networks(http, "metrics_open_to", list(THIS_HOST)),
    )
    _check_references(settings, reader, regions, queues, region_flag=region is not None)
    if not defer_faults:
        reader.faults.raise_if_any()
    return settings


Named = TypeVar("Named", RegionConfig, QueueConfig)


def _named(items: list[Named], kind: str, reader: ConfigReader) -> list[Named]:
    """The regions or queues that have a name, each name once: one without (a fault
    already) is left out, and so is a second one of a name, a fault naming both tables,
    so that every later check and section reader sees each name once (a list of the
    queues' names in another fault does not show it twice)."""
    first: dict[str, int] = {}
    kept = []
    for index, item in enumerate(items):
        if not isinstance(item.name, str) or not item.name:
            continue
        if item.name in first:
            reader.fault(
                f"{kind}[{index}].name",
                f"a name no other of the [[{kind}]] has ({kind}[{first[item.name]}] has it)",
                item.name,
            )
            continue
        first[item.name] = index
        kept.append(item)
    return kept


def _name(section: ConfigReader) -> Any:
    """A `[[regions]]` or `[[queues]]` name: a string that is not empty."""
    name = section.string("name")
    if name == "":
        section.fault("name", "a name that is not empty", name)
    return name


def _redis_url(section: ConfigReader) -> str | None:
    """`[redis] url`, its scheme and shape checked here, so that a typo is a fault of the
    one report and not a failure once the node has started."""
    url = section.string("url", None)
    if not url:
        return None
    problem = _redis_url_problem(url)
    if problem is not None:
        from switchboard.redisconn import without_credentials  # no password in the report

        section.fault("url", f"{REDIS_URL_EXPECTED} ({problem})", without_credentials(url))
        return None
    return str(url)


def _redis_url_problem(url: str) -> str | None:
    """What is wrong with a Redis URL's shape (None: nothing); nothing is connected to."""
    try:
        parsed = urlparse(url)
    except ValueError as failure:  # an unbalanced [ in the host
        return str(failure)
    if parsed.scheme not in REDIS_SCHEMES:
        return f"unknown scheme {parsed.scheme!r}" if parsed.scheme else "no scheme"
    if parsed.scheme == "unix":
        return None if parsed.path else "no socket path"
    if parsed.scheme == "redis+sentinel":
        for host in parsed.netloc.rpartition("@")[2].split(","):
            name, colon, number = host.partition(":")
            if not name or (colon and not _port_text(number)):
                return f"a Sentinel at host:port, found {host!r}"
        parts = [part for part in parsed.path.split("/") if part]
        if not parts:
            return "no service name after the Sentinels"
        if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
            return f"/service/db after the Sentinels, found {parsed.path!r}"
        return None
    try:
        port = parsed.port
    except ValueError:
        return f"a port 1-{MAX_PORT}"
    if port == 0:
        return f"a port 1-{MAX_PORT}"
    if parsed.scheme == "redis+cluster" and not parsed.hostname:
        return "no host"
    database = parsed.path.strip("/")
    if database and not database.isdigit():
        return f"a database number after the host, found {parsed.path!r}"
    return None


def _port_text(text: str) -> bool:
    return text.isdigit() and 1 <= int(text) <= MAX_PORT


def _clock(section: ConfigReader, key: str, default: str) -> str:
    value = section.string(key, default)
    try:
        parse_clock(value)
    except ValueError:
        section.fault(key, CLOCK_EXPECTED, value)
        return default
    return value


def _region(section: ConfigReader) -> RegionConfig:
    timezone = section.string("timezone", "UTC")
    try:
        check_timezone(timezone or "UTC")
    except ValueError:
        section.fault("timezone", "an IANA time zone like Europe/Paris", timezone)
    return RegionConfig(
        name=_name(section),
        timezone=timezone or "UTC",
        open=_clock(section, "open", "00:00"),
        close=_clock(section, "close", "24:00"),
        neighbours=tuple(section.strings("neighbours", [])),
    )


def _metrics_token(section: ConfigReader) -> str:
    """`[http] metrics_token_file` (the token in a file, as Prometheus reads it) or the
    environment variable SWITCHBOARD_METRICS_TOKEN."""
    path = section.string("metrics_token_file", None)
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as failure:
            section.fault("metrics_token_file", "a readable file", f"{path} ({failure.strerror})")
    return os.environ.get("SWITCHBOARD_METRICS_TOKEN", "")


def _networks(
    section: ConfigReader, key: str, default: list[str]
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """A list of IP addresses or CIDR networks (`10.0.0.0/8`, `::1`)."""
    networks = []
    for value in section.strings(key, default) or []:
        try:
            networks.append(ipaddress.ip_network(value.strip()))
        except ValueError:
            section.fault(
                key,
                "IP addresses or CIDR networks without host bits (10.0.0.0/8, 192.0.2.7, ::1)",
                value,
            )
    return tuple(networks)


def _auth(section: ConfigReader) -> SessionPolicy:
    """`[auth]`: how long sessions last and how logins are checked and throttled."""
    default = SessionPolicy()
    idle = (
        section.number("idle_timeout_s", None, minimum=60)
        if section.has("idle_timeout_s")
        else None
    )
    return SessionPolicy(
        token_ttl_s=section.number("token_ttl_s", default.token_ttl_s, minimum=60),
        idle_timeout_s=idle,
        max_failures=section.integer("max_failures", default.max_failures, minimum=1),
        address_max_failures=section.integer(
            "address_max_failures", default.address_max_failures, minimum=1
        ),
        failure_window_s=section.number("failure_window_s", default.failure_window_s, minimum=1),
        lockout_base_s=section.number("lockout_base_s", default.lockout_base_s, minimum=0.1),
        lockout_max_s=section.number("lockout_max_s", default.lockout_max_s, minimum=1),
        scrypt_log2_n=section.integer(
            "scrypt_log2_n", default.scrypt_log2_n, minimum=10, maximum=20
        ),
        expiry_check_s=section.number(
            "expiry_check_s", default.expiry_check_s, minimum=0.1, maximum=3600
        ),
    )


def _queue(section: ConfigReader, ring_s: float) -> QueueConfig:
    """A `[[queues]]` table, validated as the admin API validates a queue
    (`QueueDefinition`, the same bounds: a queue the file defines is one a PUT takes
    back); `ring_s` when it sets none (`[routing].offer_timeout_s`)."""
    name = _name(section)
    if isinstance(name, str) and name:
        try:
            QueuePath.model_validate({"queue": name})
        except ValidationError as failure:
            section.fault("name", first_fault(failure, "").expected, name)
    given = {key: section.table[key] for key in QueueDefinition.model_fields if section.has(key)}
    return queue_from(name, _definition(section, given).model_dump(exclude_unset=True), ring_s)


def _definition(section: ConfigReader, given: dict[str, Any]) -> QueueDefinition:
    """`given` as a `QueueDefinition`: each field it refuses is a fault naming the file's
    key (`queues[0].priority`), and is then left at its default, so every fault is found."""
    for _ in range(len(given)):
        try:
            return QueueDefinition.model_validate(given)
        except ValidationError as failure:
            fault = first_fault(failure, section.prefix.removesuffix("."))
            key = str(failure.errors(include_url=False)[0]["loc"][0])
            section.faults.add(fault.path, _expected(key, fault.expected), fault.found)
            del given[key]
    return QueueDefinition.model_validate(given)


def _expected(key: str, said: str) -> str:
    """What a queue's field takes, in the file's words: a number with both its bounds
    (`a number >= 1 and <= 600`, where pydantic names the one broken), a strategy's
    choices; otherwise what the API says."""
    field = QueueDefinition.model_json_schema()["properties"][key]
    for option in field.get("anyOf", [field]):
        if option.get("type") in ("integer", "number"):
            words = "an integer" if option["type"] == "integer" else "a number"
            bounds = [f"{sign} {option[k]}" for sign, keys in _BOUNDS for k in keys if k in option]
            return f"{words} {' and '.join(bounds)}".strip()
    choices = QueueDefinition.model_fields[key].annotation
    if isinstance(choices, type) and issubclass(choices, StrEnum):
        return f"one of {', '.join(choice.value for choice in choices)}"
    return said


# JSON Schema's words for a bound, and pydantic's where a validator comes first (`Seconds`).
_BOUNDS = ((">=", ("minimum", "ge")), ("<=", ("maximum", "le")))


def _check_references(
    settings: Settings,
    reader: ConfigReader,
    regions: list[RegionConfig],
    queues: list[QueueConfig],
    *,
    region_flag: bool = False,
) -> None:
    """Names that must name a region or a queue; `regions` and `queues` as the file has
    them (a fault names each by its place there), nameless ones too. The node's region
    given as `--region` (`region_flag`) is named so, not as the file's key."""
    region_names = [region.name for region in settings.regions]
    queue_names = [queue.name for queue in settings.queues]
    if settings.region and settings.region not in region_names:
        reader.fault(
            "--region" if region_flag else "node.region",
            f"one of the [[regions]] ({', '.join(region_names) or 'none has a name'})",
            settings.region,
        )
    for index, queue in enumerate(queues):
        if queue.overflow_queue and queue.overflow_queue not in queue_names:
            reader.fault(
                f"queues[{index}].overflow_queue", "the name of another queue", queue.overflow_queue
            )
    for index, region in enumerate(regions):
        for neighbour in region.neighbours:
            if neighbour not in region_names:
                reader.fault(f"regions[{index}].neighbours", "names of [[regions]]", neighbour)
