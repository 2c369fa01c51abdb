"""The configuration file: loaded with pyyaml, validated by a typed model.

Errors name the key, its line in the file and what is expected, so `check-config`
can be read by an operator who did not write the code.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)

from commands.core.config_section import BuildContext, ConfigSection, ConfigSectionRule
from commands.core.dashboard_link import FEATURE as DASHBOARD_FEATURE
from commands.core.dashboard_link import DashboardLink
from commands.core.defaults import Defaults, Limits
from commands.core.i18n import Language
from commands.core.matrix_ids import check_user_id
from commands.features import build_registry

ENV_PASSWORD = "GREMIENBOT_PASSWORD"
ENV_ACCESS_TOKEN = "GREMIENBOT_ACCESS_TOKEN"
ENV_DATABASE_URL = "GREMIENBOT_DATABASE_URL"
ENV_RECOVERY_KEY = "GREMIENBOT_RECOVERY_KEY"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatabaseConfig(_Strict):
    url: str | None = Field(
        default=None, description="SQLAlchemy URL; empty: SQLite file in the data directory"
    )


_DEFAULTS = Defaults()
_LIMITS = Limits()


class DefaultsConfig(_Strict):
    language: Language = _DEFAULTS.language
    timezone: str = _DEFAULTS.timezone
    state: str = Field(
        default=_DEFAULTS.state, description="German state for public holidays, e.g. NW, BY"
    )

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. {_DEFAULTS.timezone}") from None
        return value

    def build(self) -> Defaults:
        """The one Defaults the bot hands to every part that needs one."""
        return Defaults(language=self.language, timezone=self.timezone, state=self.state)


class InvitersConfig(_Strict):
    users: list[str] = Field(default_factory=list)
    servers: list[str] = Field(default_factory=list)

    @field_validator("users")
    @classmethod
    def _user_ids(cls, values: list[str]) -> list[str]:
        for v in values:
            check_user_id(v)
        return values


class EncryptionConfig(_Strict):
    only_cross_signed_devices: bool = Field(
        default=False,
        description="share room keys only with devices their owners have cross-signed",
    )
    recovery_key: SecretStr | None = Field(
        default=None, description="recovery key of cross-signing keys set up elsewhere"
    )
    allow_identity_reset: bool = Field(
        default=False,
        description="replace an existing cross-signing identity the bot has no keys for",
    )
    undecryptable_wait_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="how long to wait for a missing room key before saying so in the room",
    )


class RemindersConfig(_Strict):
    late_after_seconds: float = Field(
        default=300,
        ge=0,
        le=86_400,
        description="a reminder posted this much later than planned is marked as late",
    )


class CatchupConfig(_Strict):
    horizon_days: float = Field(
        default=7,
        gt=0,
        le=365,
        description="commands older than this when the bot reads them are not carried out",
    )


class LimitsConfig(_Strict):
    """Quotas and flood control: what one member (or room) may keep the bot busy with."""

    reminders_per_member: int = Field(
        default=_LIMITS.reminders_per_member,
        ge=0,
        le=100_000,
        description="active `!erinnere` reminders one member may have in a room (0: no limit)",
    )
    reminders_per_room: int = Field(default=_LIMITS.reminders_per_room, ge=0, le=100_000)
    polls_per_member: int = Field(
        default=_LIMITS.polls_per_member,
        ge=0,
        le=10_000,
        description="running polls and pulses one member may have in a room (0: no limit)",
    )
    polls_per_room: int = Field(default=_LIMITS.polls_per_room, ge=0, le=10_000)
    command_burst: int = Field(
        default=_LIMITS.command_burst,
        ge=0,
        le=10_000,
        description="commands a member may send in a row in one room (0: no flood control)",
    )
    command_interval_seconds: float = Field(
        default=_LIMITS.command_interval.total_seconds(),
        gt=0,
        le=3600,
        description="after the burst: one command per this many seconds",
    )


class QuietHoursConfig(_Strict):
    """`!erinnere` reminders falling in the night wait until its end (room time)."""

    start: dt.time = Field(default=_LIMITS.quiet_start, description="e.g. 22:00")
    end: dt.time = Field(default=_LIMITS.quiet_end, description="e.g. 06:00; = start: off")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> object:
        # YAML reads an unquoted 22:00 as the number of minutes (1320).
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return dt.time(value // 60, value % 60)
        return value


def build_limits(limits: LimitsConfig, quiet: QuietHoursConfig) -> Limits:
    return Limits(
        reminders_per_member=limits.reminders_per_member,
        reminders_per_room=limits.reminders_per_room,
        polls_per_member=limits.polls_per_member,
        polls_per_room=limits.polls_per_room,
        command_burst=limits.command_burst,
        command_interval=dt.timedelta(seconds=limits.command_interval_seconds),
        quiet_start=quiet.start,
        quiet_end=quiet.end,
    )


class PrivacyConfig(_Strict):
    """Where the secrets that keep answers anonymous live (docs/deployment.md)."""

    voter_key_file: Path | None = Field(
        default=None,
        description=(
            "the voter key (the secret behind the voters' hashes); default voter.key in "
            "data_dir. Keep it on another volume than the database, and back it up apart"
        ),
    )


class LoggingConfig(_Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "text": one readable line per event; "json": one JSON object per line for collectors.
    format: Literal["text", "json"] = "text"


class MetricsConfig(_Strict):
    """The optional HTTP listener for `/healthz` and `/metrics` (off when `listen` is empty)."""

    listen: str = ""
    # /healthz answers 503 when the last successful sync is older than this.
    max_sync_age_seconds: int = Field(default=120, ge=10, le=3600)

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_listen(value, "127.0.0.1:9464")

    @property
    def address(self) -> tuple[str, int] | None:
        return listen_address(self.listen)


def check_listen(value: str, example: str) -> str:
    """A listener's `host:port` ("" for off)."""
    if not value:
        return value
    host, sep, port = value.rpartition(":")
    # Port 0: any free port (the log names it); tests use that.
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"must be host:port, e.g. {example} (empty: off)")
    return value


def listen_address(value: str) -> tuple[str, int] | None:
    if not value:
        return None
    host, _, port = value.rpartition(":")
    return host.strip("[]"), int(port)


# An origin as a browser sends it: scheme, host, optional port; nothing a CSP could misread.
_ORIGIN = re.compile(r"https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


def _http_url(value: str, key: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"{key} must be an http(s) address without ? or #, e.g. {_PUBLIC_EXAMPLE}")
    if any(c.isspace() for c in value):
        raise ValueError(f"{key} must not contain spaces")
    return value.rstrip("/")


_PUBLIC_EXAMPLE = "https://bot.stadt.de/dashboard"


class DashboardConfig(_Strict):
    """The coordination's dashboard, an Element widget the bot serves itself (bot/dashboard;
    docs/dashboard.md). Off while `listen` is empty."""

    listen: str = Field(
        default="", description="host:port of the dashboard's HTTP server, e.g. 127.0.0.1:8790"
    )
    public_url: str = Field(
        default="", description="the reverse proxy's address of it, e.g. " + _PUBLIC_EXAMPLE
    )
    element_origins: list[str] = Field(
        default_factory=lambda: ["https://app.element.io"],
        description="the Element web clients allowed to show it (CSP frame-ancestors)",
    )
    openid_url: str = Field(
        default="",
        description="where the homeserver answers /_matrix/federation/v1/openid/userinfo "
        "(its federation or openid listener); empty: the homeserver's address",
    )
    session_minutes: int = Field(
        default=60, ge=1, le=60, description="how long a login lasts before the widget renews it"
    )
    trusted_proxies: list[str] = Field(
        default_factory=lambda: ["127.0.0.1", "::1"],
        description="reverse proxies whose X-Forwarded-For names the client's address",
    )

    @field_validator("listen")
    @classmethod
    def _address(cls, value: str) -> str:
        return check_listen(value, "127.0.0.1:8790")

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str) -> str:
        return _http_url(value, "public_url") if value else value

    @field_validator("openid_url")
    @classmethod
    def _openid(cls, value: str) -> str:
        return _http_url(value, "openid_url") if value else value

    @field_validator("element_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        for v in values:
            if not _ORIGIN.fullmatch(v):
                raise ValueError(
                    f"{v!r} is no origin: scheme and host only, e.g. https://app.element.io"
                )
        return values

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, values: list[str]) -> list[str]:
        found = []
        for v in values:
            try:
                found.append(str(ipaddress.ip_address(v)))
            except ValueError:
                raise ValueError(f"{v!r} is no IP address, e.g. 127.0.0.1") from None
        return found

    @model_validator(mode="after")
    def _served_somewhere(self) -> DashboardConfig:
        if self.listen and not self.public_url:
            raise ValueError("public_url is needed once listen is set (the widget's address)")
        return self

    @property
    def address(self) -> tuple[str, int] | None:
        return listen_address(self.listen)


class _BeforeFeatures(_Strict):
    """The bot's own keys that come before the features' sections (see Config)."""

    homeserver: str = Field(description="URL of the homeserver's client API")
    user_id: str
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    device_name: str = "gremienbot"
    data_dir: Path = Path("./data")
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    defaults: DefaultsConfig = Field(default_factory=DefaultsConfig)
    command_prefix: str = "!"
    allowed_inviters: InvitersConfig = Field(default_factory=InvitersConfig)
    coordination: list[str] = Field(default_factory=list)
    encryption: EncryptionConfig = Field(default_factory=EncryptionConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    catchup: CatchupConfig = Field(default_factory=CatchupConfig)

    @field_validator("homeserver")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with https:// (or http:// for a local server)")
        return value.rstrip("/")

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        return check_user_id(value)

    @field_validator("coordination")
    @classmethod
    def _coordinators(cls, values: list[str]) -> list[str]:
        for v in values:
            check_user_id(v)
        return values

    @field_validator("command_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value or " " in value or len(value) > 3:
            raise ValueError("must be 1 to 3 characters without spaces, e.g. '!'")
        return value


# Every feature's section (`router.config_section`), in the order of the feature list.
FEATURE_SECTIONS: tuple[ConfigSectionRule, ...] = tuple(build_registry().config_sections)


def _with_feature_sections(base: type[_BeforeFeatures]) -> type[_BeforeFeatures]:
    fields: dict[str, Any] = {
        rule.name: (rule.model, Field(default_factory=rule.model)) for rule in FEATURE_SECTIONS
    }
    return create_model("_WithFeatures", __base__=base, __module__=__name__, **fields)


if TYPE_CHECKING:
    _WithFeatures = _BeforeFeatures
else:
    _WithFeatures = _with_feature_sections(_BeforeFeatures)


class Config(_WithFeatures):
    """The whole file: the bot's own sections and, between `catchup` and `privacy`, each
    feature's. pydantic reports mistakes in the order of the fields, so the features'
    sections stand where operators have always seen their mistakes listed."""

    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    dashboard: DashboardConfig = Field(default_factory=DashboardConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    quiet_hours: QuietHoursConfig = Field(default_factory=QuietHoursConfig)

    # The config file's folder: relative file names in the features' sections count from
    # it (load_config sets it; a Config made in code reads them from the working directory).
    _folder: Path = PrivateAttr(default_factory=Path)

    @property
    def server_name(self) -> str:
        return self.user_id.split(":", 1)[1]

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.data_dir / 'gremienbot.db').resolve()}"

    @property
    def voter_key_path(self) -> Path:
        """The voter key's file: `privacy.voter_key_file`, else voter.key in data_dir."""
        return self.privacy.voter_key_file or self.data_dir / "voter.key"

    def feature_sections(self) -> dict[str, ConfigSection]:
        """Each feature's section by its name."""
        return {rule.name: getattr(self, rule.name) for rule in FEATURE_SECTIONS}

    def build_context(self, *, voter_key: bytes | None = None) -> BuildContext:
        """What the features' sections need from the rest of the config."""
        return BuildContext(
            folder=self._folder,
            catchup_horizon=dt.timedelta(days=self.catchup.horizon_days),
            voter_key=voter_key,
        )

    def build_defaults(self, *, voter_key: bytes | None = None) -> Defaults:
        """The configured defaults, with each feature's settings from its section;
        `voter_key` is the secret behind poll voters' hashes (from the data directory)."""
        context = self.build_context(voter_key=voter_key)
        features = {name: s.build(context) for name, s in self.feature_sections().items()}
        features["limits"] = build_limits(self.limits, self.quiet_hours)
        # Where `!dashboard einrichten` points the widget; "" while the dashboard is off.
        served = self.dashboard.public_url if self.dashboard.listen else ""
        features[DASHBOARD_FEATURE] = DashboardLink(public_url=served)
        return dataclasses.replace(self.defaults.build(), features=features)

    def may_invite(self, user_id: str) -> bool:
        inviters = self.allowed_inviters
        if user_id in inviters.users or user_id in self.coordination:
            return True
        server = user_id.split(":", 1)[1] if ":" in user_id else ""
        return server in inviters.servers


# A feature's section under a key of the bot's own would silently replace it (or vanish).
_OWN_KEYS = {*_BeforeFeatures.model_fields, *Config.__annotations__}
if _taken := [rule.name for rule in FEATURE_SECTIONS if rule.name in _OWN_KEYS]:
    raise ValueError(f"config sections {_taken} are keys of the bot's own")


class ConfigError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_config(path: Path, *, environ: dict[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: expected a mapping of keys at the top level"])
    # Secrets from the environment win over the file, so the file can be shared.
    if env.get(ENV_PASSWORD):
        data["password"] = env[ENV_PASSWORD]
    if env.get(ENV_ACCESS_TOKEN):
        data["access_token"] = env[ENV_ACCESS_TOKEN]
    if env.get(ENV_RECOVERY_KEY):
        data.setdefault("encryption", {})
        if isinstance(data["encryption"], dict):
            data["encryption"]["recovery_key"] = env[ENV_RECOVERY_KEY]
    if env.get(ENV_DATABASE_URL):
        data.setdefault("database", {})
        if isinstance(data["database"], dict):
            data["database"]["url"] = env[ENV_DATABASE_URL]
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError([_describe(path, node, err) for err in exc.errors()]) from None
    if config.password is None and config.access_token is None:
        raise ConfigError(
            [
                f"{path}: neither password nor access_token is set "
                f"(in the file or as {ENV_PASSWORD} / {ENV_ACCESS_TOKEN})"
            ]
        )
    if not config.data_dir.is_absolute():
        config.data_dir = (path.parent / config.data_dir).resolve()
    key_file = config.privacy.voter_key_file
    if key_file is not None and not key_file.is_absolute():
        config.privacy.voter_key_file = (path.parent / key_file).resolve()
    config._folder = path.parent.resolve()
    context = config.build_context()
    sections = config.feature_sections().values()
    if problems := [p for section in sections for p in section.problems(context)]:
        raise ConfigError([f"{path}: {p}" for p in problems])
    return config


def _describe(path: Path, root: yaml.Node | None, err: Any) -> str:
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) or "(top level)"
    line = _line_of(root, err["loc"])
    where = f"{path}:{line}" if line else str(path)
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "is required but missing"
    elif err["type"] == "extra_forbidden":
        msg = "is not a known key (check the spelling against config.example.yaml)"
    return f"{where}: {key}: {msg}"


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the deepest part of `loc` that exists in the YAML tree."""
    best: int | None = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(part):
                    best = k.start_mark.line + 1
                    node = v
                    break
            else:
                return best
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return best
            node = node.value[part]
            best = node.start_mark.line + 1
        else:
            return best
    return best
