"""Who holds an OpenID token (MSC1960): asked of the bot's own homeserver only.

The widget gets a token from the person's client (`get_openid`) and hands it in with the
server name the client named. That name is never followed: a token naming any server
but the bot's own is refused before anything is sent anywhere (no request the caller
could point at an address of its choosing), and the answer's `sub` must be a user of the
bot's server too. The token goes to the homeserver in the query string, as the
specification has it (`GET /_matrix/federation/v1/openid/userinfo?access_token=…`); it is
never logged, and redirects are not followed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import aiohttp

from commands.core.matrix_ids import check_user_id

log = logging.getLogger(__name__)

USERINFO_PATH = "/_matrix/federation/v1/openid/userinfo"
TIMEOUT = 10.0
# An OpenID token as homeservers issue it: printable, no spaces, not absurdly long.
_TOKEN = re.compile(r"[\x21-\x7e]{1,512}")


class NotVerified(Exception):
    """The token does not stand for a user of the bot's server (401)."""


class HomeserverAway(Exception):
    """The homeserver did not answer the question (502): no fault of the token."""


@dataclass(frozen=True)
class OpenIdVerifier:
    """`base_url`: where the homeserver answers `USERINFO_PATH` (its federation or `openid`
    listener); `server_name`: the bot's own server."""

    base_url: str
    server_name: str

    async def user_of(
        self, http: aiohttp.ClientSession, access_token: object, server_name: object
    ) -> str:
        """The user ID the token stands for; NotVerified or HomeserverAway otherwise."""
        if server_name != self.server_name:
            raise NotVerified("the token names another server")
        if not isinstance(access_token, str) or not _TOKEN.fullmatch(access_token):
            raise NotVerified("no token")
        try:
            async with http.get(
                self.base_url + USERINFO_PATH,
                params={"access_token": access_token},
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            ) as resp:
                if resp.status in (401, 403, 404):
                    raise NotVerified(f"the homeserver answered {resp.status}")
                if resp.status != 200:
                    raise HomeserverAway(f"the homeserver answered {resp.status}")
                body = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            # The exception's text may hold the URL, and with it the token: only its kind.
            raise HomeserverAway(exc.__class__.__name__) from None
        sub = body.get("sub") if isinstance(body, dict) else None
        if not isinstance(sub, str):
            raise NotVerified("the homeserver's answer names nobody")
        try:
            user_id = check_user_id(sub)
        except ValueError:
            raise NotVerified("the homeserver's answer is no user ID") from None
        if user_id.split(":", 1)[1] != self.server_name:
            raise NotVerified("the user belongs to another server")
        return user_id
