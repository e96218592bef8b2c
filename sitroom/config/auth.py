"""dashboard.yaml `auth:`: sessions, lockout, and the reverse proxy's single sign-on header."""
from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator

from .base import Strict


class AuthConfig(Strict):
    # minutes, with a fraction for seconds (0.5: 30 s)
    idle_minutes: float = Field(default=30, ge=0.01, le=24 * 60)     # a session unused this long is logged out
    lockout_failures: int = Field(default=5, ge=1, le=100)          # failed logins of one account ...
    lockout_minutes: float = Field(default=15, ge=0.01, le=24 * 60)  # ... within this long lock it this long
    ip_failures_per_minute: int = Field(default=20, ge=1, le=10_000)  # from one address, any account
    # Single sign-on: the name of the account in this header, believed only from these addresses
    # (the centre's reverse proxy, which sets it from the unified identity system).
    trusted_header: str | None = None
    trusted_proxies: list[str] = []
    secure_cookies: bool | None = None  # None: Secure when the request came over TLS

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for net in v:
            try:
                ipaddress.ip_network(net, strict=False)
            except ValueError:
                raise ValueError(f"'{net}' is not an address or network (e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return v
