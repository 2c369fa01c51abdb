"""The annual evaluation's settings from the config (`evaluation:`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import Field, field_validator

from commands.core.config_section import BuildContext, ConfigSection
from commands.core.defaults import Defaults, feature_settings
from commands.core.registry import Router


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


class EvaluationConfig(ConfigSection):
    statements: list[str] = Field(
        default_factory=list,
        max_length=30,
        description="statements rated 1–5; empty: the built-in questionnaire by language",
    )
    free_question: str | None = Field(
        default="", max_length=500, description="empty: the built-in one; null: none"
    )
    duration_days: float = Field(default=14, ge=1, le=120)
    remind_days_before: float = Field(default=3, ge=0, le=60)

    @field_validator("statements")
    @classmethod
    def _statements(cls, values: list[str]) -> list[str]:
        cleaned = [" ".join(v.split()) for v in values]
        if any(not v or len(v) > 500 for v in cleaned):
            raise ValueError("each statement must have 1 to 500 characters")
        return cleaned

    def build(self, context: BuildContext) -> EvaluationSettings:
        return EvaluationSettings(
            statements=tuple(self.statements),
            free_question=self.free_question.strip() if self.free_question is not None else None,
            duration=dt.timedelta(days=self.duration_days),
            remind_before=dt.timedelta(days=self.remind_days_before),
        )


router = Router()
router.config_section("evaluation", EvaluationConfig)
