"""The dashboard's logins: short-lived bearer tokens kept in memory only, and the limit on
failed attempts per client address.

A token is 256 random bits (`secrets.token_urlsafe`), handed out once a person's OpenID
token checked out at the bot's homeserver, valid for `dashboard.session_minutes` (at most
an hour), never written anywhere: a restart of the bot logs everyone out, and the widget
logs in again by itself. Tokens are compared through their hashes, so a lookup takes as
long for a near miss as for a far one.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

# Logins at once beyond which the oldest is dropped: a bound on memory, far above the
# number of people who coordinate or chair committees.
MAX_SESSIONS = 10_000
# Failed logins from one address within WINDOW seconds beyond which it is refused (429).
MAX_FAILURES = 10
WINDOW = 600.0
# Addresses tracked at once: a flood of addresses cannot fill the memory.
MAX_ADDRESSES = 10_000


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Login:
    """Who a bearer token stands for, until when (the clock's seconds)."""

    user_id: str
    expires: float


class Sessions:
    def __init__(self, lifetime: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.lifetime = lifetime
        self.clock = clock
        # The token's hash -> the login; insertion order is the order of expiry.
        self._logins: dict[bytes, Login] = {}

    def open(self, user_id: str) -> str:
        """A new token for `user_id`; only its hash is kept."""
        self._prune()
        while len(self._logins) >= MAX_SESSIONS:
            del self._logins[next(iter(self._logins))]
        token = secrets.token_urlsafe(32)
        self._logins[_digest(token)] = Login(user_id, self.clock() + self.lifetime)
        return token

    def user(self, token: str) -> str | None:
        """Whom the token stands for; None when it is unknown or has expired."""
        key = _digest(token)
        login = self._logins.get(key)
        if login is None:
            return None
        if login.expires <= self.clock():
            del self._logins[key]
            return None
        return login.user_id

    def __len__(self) -> int:
        self._prune()
        return len(self._logins)

    def _prune(self) -> None:
        now = self.clock()
        while self._logins:
            key, login = next(iter(self._logins.items()))
            if login.expires > now:
                break
            del self._logins[key]


class FailureLimit:
    """Failed logins per client address in a sliding window of WINDOW seconds."""

    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, address: str) -> float | None:
        """Seconds until `address` may try again; None when it may now."""
        found = self._recent(address)
        if found is None or len(found) < self.max_failures:
            return None
        return max(1.0, found[0] + self.window - self.clock())

    def failed(self, address: str) -> None:
        found = self._recent(address)
        if found is None:
            if len(self._failures) >= MAX_ADDRESSES:
                self._forget_old()
            if len(self._failures) >= MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]
            found = self._failures[address] = deque()
        found.append(self.clock())
        while len(found) > self.max_failures:
            found.popleft()

    def _recent(self, address: str) -> deque[float] | None:
        found = self._failures.get(address)
        if found is None:
            return None
        limit = self.clock() - self.window
        while found and found[0] <= limit:
            found.popleft()
        if not found:
            del self._failures[address]
            return None
        return found

    def _forget_old(self) -> None:
        for address in list(self._failures):
            self._recent(address)
