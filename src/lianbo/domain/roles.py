"""Roles and what each may do."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """The people (and machines) who use lianbo; see DESIGN.md."""

    ADMIN = "admin"
    OPERATOR = "operator"
    REVIEWER = "reviewer"
    ISSUER = "issuer"
    MONITOR = "monitor"
    VIEWER = "viewer"


class Permission(StrEnum):
    """Acts a role may be allowed."""

    MANAGE_USERS = "manage_users"
    MANAGE_TERMINALS = "manage_terminals"
    MANAGE_REGIONS = "manage_regions"
    READ_AUDIT = "read_audit"
    MANAGE_CONTENT = "manage_content"  # upload, edit, submit for review
    REVIEW_CONTENT = "review_content"  # pass or fail a review level, revoke
    MONITOR = "monitor"  # acknowledge and resolve alarms
    ISSUE_ALERTS = "issue_alerts"  # issue, confirm and cancel emergency alerts
    MANAGE_KEYS = "manage_keys"  # rotate and retire the signing keys


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset(
        {
            Permission.MANAGE_TERMINALS,
            Permission.MANAGE_REGIONS,
            Permission.MANAGE_CONTENT,
            Permission.MONITOR,
        }
    ),
    Role.REVIEWER: frozenset({Permission.REVIEW_CONTENT}),
    Role.ISSUER: frozenset({Permission.ISSUE_ALERTS}),
    Role.MONITOR: frozenset({Permission.MONITOR}),
    Role.VIEWER: frozenset(),
}


def can(role: Role, permission: Permission) -> bool:
    """True when ``role`` is granted ``permission``."""
    return permission in _GRANTS[role]
