"""Where the report's lines go on Form CB-496 Part 1: ``templates/cb496-form.yaml``, read once.

The mapping is data: a line number or column letter not confirmed from the public form says so
(``confirmed: false``), and the report carries that into its CSV and XML.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..resources import shipped
from ..yamltext import parse

COLUMN_KEYS = (
    "current_total",
    "current_federal",
    "adjustments_total",
    "adjustments_federal",
    "estimate_total",
    "estimate_federal",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Columns(_Strict):
    confirmed: bool = False
    current_total: str
    current_federal: str
    adjustments_total: str
    adjustments_federal: str
    estimate_total: str
    estimate_federal: str

    def letters(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in COLUMN_KEYS}


class FormLine(_Strict):
    section: str
    line: str | None = Field(None, description="the form's line number, when confirmed")
    confirmed: bool = False

    def label(self) -> str:
        """The line as a fiscal officer looks for it: its number, or that it is not confirmed."""
        number = self.line if self.line is not None else "line number not confirmed"
        return f"{self.section}, {number}" if self.confirmed else f"{self.section}, {number} (unconfirmed)"


class Form(_Strict):
    form: str
    revision: str
    part: str
    source: str
    columns: Columns
    lines: dict[str, FormLine]


@cache
def cb496_form() -> Form:
    path = shipped("templates", "templates") / "cb496-form.yaml"
    data: Any = parse(path.read_text(encoding="utf-8"))[1]
    return Form.model_validate(data)
