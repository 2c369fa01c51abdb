"""Imports every table module so that SQLModel.metadata knows the whole schema."""

from storage import (
    models,  # noqa: F401
    reminder_models,  # noqa: F401
)
