"""regions.yaml: which provinces the centre covers, and which places count as risk areas."""
from __future__ import annotations

import re

from pydantic import Field, field_validator

from .base import Strict


class RegionsConfig(Strict):
    provinces: list[str] = Field(min_length=1)
    # Origins of arrivals that count as risk areas: names or codes as the inflow sources
    # write them; an origin matches an entry it starts with ("湖北省" covers "湖北省武汉市").
    risk_areas: list[str] = Field(default_factory=list)

    @field_validator("provinces")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        for code in v:
            if not re.fullmatch(r"\d{2}0000", str(code)):
                raise ValueError(f"'{code}' is not a province code (six digits ending in 0000, e.g. 410000)")
        return [str(c) for c in v]

    def is_risk_origin(self, origin: str | None) -> bool:
        return bool(origin) and any(origin.startswith(a) for a in self.risk_areas)
