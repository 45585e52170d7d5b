from lianbo.domain.roles import Permission, Role, can
from lianbo.domain.users import Actor


def test_admin_can_everything_and_viewer_nothing() -> None:
    assert all(can(Role.ADMIN, p) for p in Permission)
    assert not any(can(Role.VIEWER, p) for p in Permission)


def test_operators_manage_terminals_but_not_users() -> None:
    assert can(Role.OPERATOR, Permission.MANAGE_TERMINALS)
    assert not can(Role.OPERATOR, Permission.MANAGE_USERS)


def test_actor_sees_only_its_subtree() -> None:
    actor = Actor("u", "op", Role.OPERATOR, "510107")
    assert actor.sees("510107001")
    assert not actor.sees("510104")
    assert not actor.sees("5101")
