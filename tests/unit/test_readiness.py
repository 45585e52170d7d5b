import structlog

from lianbo.services.readiness import Readiness, report, run_checks


def test_a_change_is_logged_once_each_way() -> None:
    readiness = Readiness()
    with structlog.testing.capture_logs() as logs:
        for ready in (True, False, False, False, True, True):
            readiness.judge({"database": True, "bus": ready})
    assert [(e["event"], e["part"]) for e in logs] == [
        ("not ready", "bus"),
        ("ready again", "bus"),
    ]


def test_the_parts_not_ready_are_named_in_order() -> None:
    results = {"database": False, "bus": True, "leader": False}
    not_ready = Readiness().judge(results)
    assert not_ready == ["database", "leader"]
    assert report(results, not_ready) == {
        "status": "error",
        "database": "error",
        "bus": "ok",
        "leader": "error",
        "not_ready": ["database", "leader"],
    }


def test_all_ready_reads_as_before() -> None:
    assert report({"database": True}, []) == {"status": "ok", "database": "ok"}


def test_a_check_that_raises_counts_as_not_ready() -> None:
    def broken() -> bool:
        raise ConnectionError("bus gone")

    assert run_checks({"bus": broken, "other": lambda: True}) == {"bus": False, "other": True}
