"""Access control kept in the store: accounts, wall devices, API tokens, audit (no web code here;
the Flask/Dash guard is dashboard/access.py)."""
from .roles import CAPABILITIES, ROLES, capabilities  # noqa: F401
