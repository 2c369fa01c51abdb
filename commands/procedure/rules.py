"""A room's rules of procedure as numbers (engine.Rules): what the chair set in the chat
(`!geschäftsordnung setze …`, stored as JSON), else the config's for the committee, else
the defaults; and who votes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import Session

from commands.core.defaults import Defaults, feature_settings
from commands.procedure.engine import Majority, Rules, Threshold, ThresholdKind
from commands.procedure.settings import RulesSettings
from storage import procedure as store

# What municipal rules most often say (engine.Rules' defaults).
DEFAULT_RULES = Rules()


def to_params(rules: Rules) -> dict[str, Any]:
    """The rules as JSON-able parameters (what is stored and what the config holds)."""
    return {
        "quorum": threshold_params(rules.quorum),
        "invitation_days": rules.invitation_days,
        "circulation_days": rules.circulation_days,
        "circulation_participation": threshold_params(rules.circulation_participation),
        "majority": rules.majority.value,
        "chair_breaks_tie": rules.chair_breaks_tie,
        "minutes_objection_days": rules.minutes_objection_days,
        "agenda_cutoff_days": rules.agenda_cutoff_days,
    }


def from_params(params: Mapping[str, Any], base: Rules = DEFAULT_RULES) -> Rules:
    """Rules from stored parameters; what they leave out stays as in `base`."""
    p = dict(params)
    return Rules(
        quorum=threshold_of(p.get("quorum"), base.quorum),
        invitation_days=int(p.get("invitation_days", base.invitation_days)),
        circulation_days=int(p.get("circulation_days", base.circulation_days)),
        circulation_participation=threshold_of(
            p.get("circulation_participation"), base.circulation_participation
        ),
        majority=Majority(p.get("majority", base.majority.value)),
        chair_breaks_tie=bool(p.get("chair_breaks_tie", base.chair_breaks_tie)),
        minutes_objection_days=int(p.get("minutes_objection_days", base.minutes_objection_days)),
        agenda_cutoff_days=int(p.get("agenda_cutoff_days", base.agenda_cutoff_days)),
    )


def threshold_params(t: Threshold) -> dict[str, Any]:
    return {"kind": t.kind.value, "count": t.count}


def threshold_of(value: Any, default: Threshold) -> Threshold:
    if not isinstance(value, Mapping):
        return default
    return Threshold(
        ThresholdKind(value.get("kind", default.kind.value)), int(value.get("count", 0))
    )


def configured_rules(defaults: Defaults, room_id: str) -> Rules:
    """The rules the config gives the room (`rules.params` for it, over
    `rules.default_params`), else the defaults; the chair's parameters go over these
    (`rules_of`)."""
    settings = feature_settings(defaults, "rules", RulesSettings())
    return settings.rules_by_room.get(room_id, settings.default_rules)


def rules_of(db: Session, room_id: str, configured: Rules = DEFAULT_RULES) -> Rules:
    """The room's rules: the chair's parameters over the config's (`configured`)."""
    params = store.rules_params(db, room_id)
    return configured if params is None else from_params(params, configured)


def voting_members(
    db: Session, room_id: str, members: Mapping[str, str], bot_user: str
) -> list[str]:
    """Who votes: those the rules name, else every member of the room but the bot (a
    committee whose coordinating office or guests sit in the room without a vote names its
    voting members). `members`: the room's members now (user ID -> display name)."""
    named = store.voting_members(db, room_id)
    if named:
        return named
    return sorted(u for u in members if u != bot_user)
