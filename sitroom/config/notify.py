"""notify.yaml: webhook targets (an internal messaging gateway) that hear about alert events.

The file is optional: without it no notification is sent. Secrets (tokens in the URL or a
header) come from the environment as ${VAR}, like every other config file.
"""
from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from .base import LEVELS, Strict

# Kinds of the alert trail a target can subscribe to (sitroom.alerts and sitroom.silences write them).
EVENT_KINDS = ("fired", "escalated", "acknowledged", "noted", "assigned", "resolved",
               "silenced", "silence_lifted", "silence_expired")
EventKind = Literal["fired", "escalated", "acknowledged", "noted", "assigned", "resolved",
                    "silenced", "silence_lifted", "silence_expired"]


class TargetConfig(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=64)
    url: str
    events: list[EventKind] = Field(default=["fired", "escalated", "acknowledged", "assigned", "resolved"],
                                    min_length=1)
    min_level: Literal["IV", "III", "II", "I"] = "IV"   # events of lower levels are not sent
    headers: dict[str, str] = {}                         # e.g. Authorization: Bearer ${GATEWAY_TOKEN}
    timeout_seconds: float = Field(default=5, gt=0, le=60)
    max_attempts: int = Field(default=6, ge=1, le=50)
    backoff_seconds: float = Field(default=2, ge=0, le=3600)        # wait after the 1st failure; doubles
    backoff_max_seconds: float = Field(default=300, ge=0, le=86_400)

    @field_validator("url")
    @classmethod
    def _http(cls, v: str) -> str:
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return v

    def wants(self, kind: str, level: str | None) -> bool:
        if kind not in self.events:
            return False
        return level is None or LEVELS.index(level) >= LEVELS.index(self.min_level)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt: exponential, capped."""
        return min(self.backoff_max_seconds, self.backoff_seconds * 2 ** (attempts - 1))


class NotifyConfig(Strict):
    targets: list[TargetConfig] = []

    @field_validator("targets")
    @classmethod
    def _unique(cls, targets: list[TargetConfig]) -> list[TargetConfig]:
        names = [t.name for t in targets]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"target names must be unique; repeated: {', '.join(dup)}")
        return targets

    def target(self, name: str) -> TargetConfig | None:
        return next((t for t in self.targets if t.name == name), None)
