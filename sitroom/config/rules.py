"""rules.yaml: early-warning rules and their thresholds for the four warning levels."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import LEVELS, Strict, Text


class Thresholds(Strict):
    IV: float
    III: float
    II: float
    I: float

    @model_validator(mode="after")
    def _ascending(self) -> "Thresholds":
        values = [getattr(self, lv) for lv in LEVELS]
        if values != sorted(values) or len(set(values)) != 4:
            raise ValueError("thresholds must rise strictly from IV to I")
        return self

    def level_for(self, value: float) -> str | None:
        """The highest level whose threshold the value reaches, or None."""
        hit = [lv for lv in LEVELS if value >= getattr(self, lv)]
        return hit[-1] if hit else None


class RuleConfig(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: Text
    metric: Literal["new_confirmed_24h"]
    level: Literal["prefecture"] = "prefecture"
    thresholds: Thresholds
    recover_below: float = Field(description="resolve only when the value falls below this")
    escalate_after_minutes: float = Field(default=15, gt=0, description="unacknowledged this long: escalate")

    @model_validator(mode="after")
    def _hysteresis(self) -> "RuleConfig":
        if self.recover_below > self.thresholds.IV:
            raise ValueError("recover_below must not exceed the level IV threshold (or alerts would flap)")
        return self


class RulesConfig(Strict):
    rules: list[RuleConfig] = Field(min_length=1)
