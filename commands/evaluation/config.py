"""The annual evaluation's settings from the config (`evaluation:`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from commands.core.defaults import Defaults, feature_settings


@dataclass(frozen=True)
class EvaluationSettings:
    # The statements members rate 1–5; empty: the catalogue's questionnaire in the room's
    # language (what committee member surveys usually ask).
    statements: tuple[str, ...] = ()
    # The optional free-text question; "" the catalogue's, None none at all.
    free_question: str | None = ""
    duration: dt.timedelta = dt.timedelta(days=14)
    # Members who have not answered everything are reminded once, this long before the end.
    remind_before: dt.timedelta = dt.timedelta(days=3)


def evaluation_settings(defaults: Defaults) -> EvaluationSettings:
    return feature_settings(defaults, "evaluation", EvaluationSettings())
