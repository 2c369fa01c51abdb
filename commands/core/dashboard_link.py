"""Where the coordinator's dashboard is served, as the commands read it (issue 24).

The bot serves the dashboard itself (bot/dashboard, config section `dashboard:`); the
config puts its public address here (`Defaults.features["dashboard"]`, as `limits`), and
`!dashboard einrichten` (commands.desk.dashboard_setup) puts it into a room as a widget.
"" means the operator has not set the dashboard up.
"""

from __future__ import annotations

from dataclasses import dataclass

from commands.core.defaults import Defaults, feature_settings

# The name under which the config hands it over in `Defaults.features`.
FEATURE = "dashboard"

# What the widget's address carries after `#`, filled in by the client (Element) when it
# opens the widget: the room, the client's language and theme (light or dark) and the
# widget's ID. After `#` they never reach a server's log, and the address in the room's
# (unencrypted) state names no secret.
URL_TEMPLATE = (
    "/#/?room=$matrix_room_id&lang=$org.matrix.msc2873.client_language"
    "&theme=$org.matrix.msc2873.client_theme&widgetId=$matrix_widget_id"
)


@dataclass(frozen=True)
class DashboardLink:
    """`public_url`: the reverse proxy's address of the dashboard (config
    `dashboard.public_url`, no trailing "/"); "" where no dashboard is served."""

    public_url: str = ""


def dashboard_link(defaults: Defaults) -> DashboardLink:
    return feature_settings(defaults, FEATURE, DashboardLink())


def widget_url(public_url: str) -> str:
    """The widget's address, with the template variables the client fills in."""
    return public_url.rstrip("/") + URL_TEMPLATE
