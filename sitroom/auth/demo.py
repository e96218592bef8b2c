"""The demo's accounts: one per role and a city-scoped officer, and a wall device, made (or given
new passwords) at every start and printed, so a newcomer can try every role."""
from __future__ import annotations

from sqlalchemy.orm import sessionmaker

from . import accounts, audit, credentials
from .models import Wall

# name, role, regions, display name
DEMO_ACCOUNTS = (("demo-wall", "wall", (), "演示大屏"), ("demo-leader", "leader", (), "演示领导"),
                 ("demo-officer", "officer", (), "演示值班员"), ("demo-zz-officer", "officer", ("410100",), "郑州值班员"),
                 ("demo-admin", "admin", (), "演示管理员"))
DEMO_WALL = "demo-wall-1"


def demo_accounts(sessions: sessionmaker, gaz, base_url: str) -> list[str]:
    """Lines to print: each account with a fresh password, and the wall's URL."""
    lines = []
    with sessions.begin() as s:
        for name, role, regions, display in DEMO_ACCOUNTS:
            codes = [c for c in regions if c in gaz.regions]   # a demo on other provinces: unscoped
            password = accounts.generate_password()
            if accounts.get(s, name) is None:
                accounts.add(s, name, role, codes, password, display)
            else:
                accounts.reset(s, name, password)
            lines.append(f"  {name:16} {role:8} {','.join(codes) or 'all regions':12} password {password}")
        if s.query(Wall).filter(Wall.name == DEMO_WALL, Wall.revoked_at.is_(None)).count():
            credentials.revoke_wall(s, DEMO_WALL)   # its token was shown once, at the start that made it
        _, token = credentials.add_wall(s, DEMO_WALL, [], None)
        audit.record(s, "demo.accounts", "cli", address="cli", detail="demo accounts and wall (re)made")
    lines.append(f"  wall display URL: {base_url.rstrip('/')}/wall/{token}")
    return lines
