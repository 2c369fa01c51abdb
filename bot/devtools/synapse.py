"""A throwaway local Synapse homeserver for ``gremienbot demo`` and the tests.

The server listens on 127.0.0.1 only, serves the client API only (no
federation), keeps everything (config, signing key, SQLite database, media,
logs) in one directory, and can be stopped and started again on the same port
with its users and rooms intact.

Only the standard library is used for HTTP, so every method is synchronous
and works from sync and async code alike (from async code, wrap the slow ones,
``start``/``stop``, in ``asyncio.to_thread`` if the event loop must not block).
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO, Any, NoReturn

__all__ = ["LocalSynapse", "LocalSynapseError"]

CONFIG_NAME = "homeserver.yaml"
LOG_CONFIG_NAME = "log_config.yaml"
SIGNING_KEY_NAME = "signing.key"
LOG_NAME = "homeserver.log"
"""Synapse's own log (WARNING and above), written via the log config."""
OUTPUT_LOG_NAME = "synapse-output.log"
"""stdout/stderr of the Synapse process (start-up errors, tracebacks)."""

_STOP_TIMEOUT = 10.0
_HTTP_TIMEOUT = 10.0

# Generous enough that no test or demo ever hits them.
_UNLIMITED: dict[str, float] = {"per_second": 100_000.0, "burst_count": 1_000_000}

# Every rate limit Synapse 1.163 reads (synapse/config/ratelimiting.py), in the
# nesting it expects ("a.b" means config["a"]["b"]). rc_federation is left out:
# there is no federation listener.
_RATE_LIMIT_KEYS: tuple[str, ...] = (
    "rc_message",
    "rc_registration",
    "rc_registration_token_validity",
    "rc_login.address",
    "rc_login.account",
    "rc_login.failed_attempts",
    "rc_admin_redaction",
    "rc_joins.local",
    "rc_joins.remote",
    "rc_joins_per_room",
    "rc_key_requests",
    "rc_3pid_validation",
    "rc_invites.per_room",
    "rc_invites.per_user",
    "rc_invites.per_issuer",
    "rc_third_party_invite",
    "rc_media_create",
    "rc_presence.per_user",
    "rc_delayed_event_mgmt",
    "rc_room_creation",
    "rc_reports",
    "rc_user_directory",
    "rc_profile",
)

_SECRET_KEYS = ("registration_shared_secret", "macaroon_secret_key", "form_secret")


class LocalSynapseError(RuntimeError):
    """The local homeserver could not be started or did not answer as expected."""


# A direct opener: never send requests for 127.0.0.1 through an HTTP(S)_PROXY.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _http(
    method: str,
    url: str,
    body: dict[str, Any] | None = None,
    *,
    timeout: float = _HTTP_TIMEOUT,
) -> tuple[int, dict[str, Any]]:
    """One JSON request; returns (status, decoded body) also for 4xx/5xx answers."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            status: int = resp.status
            raw: bytes = resp.read()
    except urllib.error.HTTPError as err:
        status = err.code
        raw = err.read()
    try:
        decoded = json.loads(raw) if raw else {}
    except ValueError:
        decoded = {"raw": raw.decode(errors="replace")}
    if not isinstance(decoded, dict):
        decoded = {"value": decoded}
    return status, decoded


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Twisted listens with SO_REUSEADDR too, so TIME_WAIT leftovers of our
        # own previous run do not count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _nested(keys: str, value: dict[str, float]) -> dict[str, Any]:
    """Turn "a.b" into {"a": {"b": value}}."""
    result: dict[str, Any] = dict(value)
    for part in reversed(keys.split(".")):
        result = {part: result}
    return result


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def rate_limit_config(
    raise_rate_limits: bool = True, rc_message: tuple[float, int] | None = None
) -> dict[str, Any]:
    """The ``rc_*`` part of the homeserver config.

    With ``raise_rate_limits`` every limit is set so high it never triggers;
    ``rc_message`` (per_second, burst_count), if given, is used as is instead.
    """
    config: dict[str, Any] = {}
    if raise_rate_limits:
        for key in _RATE_LIMIT_KEYS:
            _merge(config, _nested(key, _UNLIMITED))
    if rc_message is not None:
        per_second, burst_count = rc_message
        config["rc_message"] = {
            "per_second": float(per_second),
            "burst_count": int(burst_count),
        }
    return config


class LocalSynapse:
    """A Synapse homeserver run as a subprocess, all state kept in ``base_dir``.

    ``port=None`` picks a free port once; it is kept for restarts of this
    object and is reused by a later ``LocalSynapse`` on the same ``base_dir``
    (read back from its homeserver.yaml), so URLs and stored tokens stay valid.
    """

    def __init__(
        self,
        base_dir: Path,
        *,
        port: int | None = None,
        server_name: str = "localhost",
        raise_rate_limits: bool = True,
        rc_message: tuple[float, int] | None = None,
        extra_config: dict[str, Any] | None = None,
    ) -> None:
        self.base_dir = Path(base_dir).resolve()
        # Merged over the generated config, e.g. {"bcrypt_rounds": 4} for many quick logins.
        self.extra_config = dict(extra_config or {})
        self.server_name = server_name
        self.raise_rate_limits = raise_rate_limits
        self.rc_message = rc_message
        self.config_path = self.base_dir / CONFIG_NAME
        self.log_path = self.base_dir / LOG_NAME
        self.output_log_path = self.base_dir / OUTPUT_LOG_NAME
        self._existing = self._read_existing_config()
        if port is None:
            port = self._existing_port() or _free_port()
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self._proc: subprocess.Popen[bytes] | None = None
        self._output: IO[bytes] | None = None

    # -- configuration -------------------------------------------------------

    def _read_existing_config(self) -> dict[str, Any]:
        # We write the config as JSON (a subset of YAML), so json can read it back.
        try:
            data = json.loads(self.config_path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _existing_port(self) -> int | None:
        try:
            port = self._existing["listeners"][0]["port"]
        except (KeyError, IndexError, TypeError):
            return None
        return port if isinstance(port, int) else None

    def _secret(self, key: str) -> str:
        value = self._existing.get(key)
        if isinstance(value, str) and value:
            return value
        value = secrets.token_urlsafe(32)
        self._existing[key] = value
        return value

    @property
    def registration_shared_secret(self) -> str:
        return self._secret("registration_shared_secret")

    def homeserver_config(self) -> dict[str, Any]:
        """The complete homeserver config this object writes."""
        config: dict[str, Any] = {
            "server_name": self.server_name,
            "public_baseurl": self.url + "/",
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    # openid: /_matrix/federation/v1/openid/userinfo, where the bot's
                    # dashboard checks a widget's OpenID token (no federation otherwise).
                    "resources": [{"names": ["client", "openid"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.base_dir / "homeserver.db")},
            },
            "log_config": str(self.base_dir / LOG_CONFIG_NAME),
            "media_store_path": str(self.base_dir / "media_store"),
            "signing_key_path": str(self.base_dir / SIGNING_KEY_NAME),
            "report_stats": False,
            "federation_domain_whitelist": [],
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "user_directory": {"enabled": False},
            "enable_registration": False,
            "enable_metrics": False,
            # A JSON string, so no YAML 1.1 "off" -> False surprise.
            "encryption_enabled_by_default_for_room_type": "off",
        }
        for key in _SECRET_KEYS:
            config[key] = self._secret(key)
        config.update(rate_limit_config(self.raise_rate_limits, self.rc_message))
        _merge(config, self.extra_config)
        return config

    def log_config(self) -> dict[str, Any]:
        return {
            "version": 1,
            "formatters": {
                "precise": {
                    "format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s"
                    " - %(request)s - %(message)s"
                }
            },
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "encoding": "utf8",
                }
            },
            "loggers": {"synapse.storage.SQL": {"level": "WARNING"}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }

    def _write_files(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        (self.base_dir / "media_store").mkdir(exist_ok=True)
        key_path = self.base_dir / SIGNING_KEY_NAME
        if not key_path.exists():
            # Comes with Synapse (the demo and test extras): `gremienbot run` imports this
            # module too, on a server that has no Synapse.
            from signedjson.key import generate_signing_key, write_signing_keys

            key = generate_signing_key(secrets.token_hex(3))
            with open(key_path, "w") as fh:
                write_signing_keys(fh, [key])
        # Rewritten on every start, so constructor settings (rate limits) apply;
        # secrets and the port are carried over from an existing file.
        (self.base_dir / LOG_CONFIG_NAME).write_text(json.dumps(self.log_config(), indent=2) + "\n")
        self.config_path.write_text(json.dumps(self.homeserver_config(), indent=2) + "\n")

    # -- process -------------------------------------------------------------

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Start Synapse and wait until the client API answers."""
        if self.is_running():
            return
        self._close_output()
        if not _port_is_free(self.port):
            raise LocalSynapseError(
                f"port {self.port} on 127.0.0.1 is already in use "
                f"(another homeserver still running for {self.base_dir}?)"
            )
        self._write_files()
        # Open for the homeserver's whole life: closed by stop() (_close_output).
        self._output = open(self.output_log_path, "ab")  # noqa: SIM115
        self._output.write(f"\n--- start {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        self._output.flush()
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.base_dir,
            stdin=subprocess.DEVNULL,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                self._fail(f"Synapse exited with code {code} during start-up")
            if self._answers():
                return
            if time.monotonic() > deadline:
                self.stop()
                self._fail(f"Synapse did not answer on {self.url} within {timeout:.0f} s")
            time.sleep(0.05)

    def _answers(self) -> bool:
        try:
            status, _ = _http("GET", self.url + "/_matrix/client/versions", timeout=2)
        except (OSError, urllib.error.URLError):
            return False
        return status == 200

    def _fail(self, message: str) -> NoReturn:
        self.stop()
        parts = [message]
        for path in (self.output_log_path, self.log_path):
            tail = _tail(path)
            if tail:
                parts.append(f"--- tail of {path}:\n{tail}")
        raise LocalSynapseError("\n".join(parts))

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL after 10 s. Safe to call repeatedly."""
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is not None and proc.poll() is None:
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(timeout=_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait()
        self._close_output()

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        try:
            os.killpg(proc.pid, sig)  # own session: pgid == pid
        except ProcessLookupError:
            pass
        except PermissionError:
            proc.send_signal(sig)

    def _close_output(self) -> None:
        if self._output is not None:
            self._output.close()
            self._output = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> LocalSynapse:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"<LocalSynapse {self.server_name} at {self.url} ({state}) in {self.base_dir}>"

    # -- users ---------------------------------------------------------------

    def user_id(self, localpart: str) -> str:
        return f"@{localpart}:{self.server_name}"

    def register(self, localpart: str, password: str, *, admin: bool = False) -> str:
        """Create a user with the shared-secret admin API; returns the user id.

        If the user exists already, its id is returned (the password is not
        checked or changed).
        """
        endpoint = self.url + "/_synapse/admin/v1/register"
        status, body = _http("GET", endpoint)
        if status != 200 or "nonce" not in body:
            raise LocalSynapseError(f"register: no nonce ({status}): {body}")
        nonce = str(body["nonce"])
        mac = hmac.new(self.registration_shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(nonce.encode())
        mac.update(b"\x00")
        mac.update(localpart.encode())
        mac.update(b"\x00")
        mac.update(password.encode())
        mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        status, body = _http(
            "POST",
            endpoint,
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        if status == 200:
            return str(body.get("user_id") or self.user_id(localpart))
        if body.get("errcode") == "M_USER_IN_USE":
            return self.user_id(localpart)
        raise LocalSynapseError(f"register {localpart!r} failed ({status}): {body}")
