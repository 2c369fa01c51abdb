"""The coordination's dashboard: an Element widget the bot serves itself (issue 24).

- `bot.dashboard.server`: the HTTP server (aiohttp) in the bot's event loop;
- `bot.dashboard.openid`: the login's OpenID check at the bot's own homeserver;
- `bot.dashboard.sessions`: bearer tokens in memory, the limit on failed logins;
- `bot.dashboard.access`: who may see which committees (as with commands);
- `static/`: the widget's page, script and style.

What it shows is built in the commands layer (commands.desk.dashboard_data).
"""
