"""Every message key the content and programming pages build from a value
(``t("review." ~ state)``) exists in both languages. No server needed."""

from __future__ import annotations

import pytest

from lianbo.domain.media import AssetKind, Severity
from lianbo.domain.playlists import Fit
from lianbo.domain.review import ReviewState
from lianbo.domain.schedules import PriorityClass, ScheduleState
from lianbo.web import i18n
from lianbo.web.domain_messages import in_chinese
from lianbo.web.messages import MESSAGES
from lianbo.web.timeline_view import reason_text

pytestmark = pytest.mark.e2e

QC = ("pending", "running", "passed", "warnings", "failed", "na")
STAGES = ("queued", "analyse", "screening", "renditions", "done")


def built_keys() -> set[str]:
    keys = {f"review.{s.value}" for s in ReviewState}
    keys |= {f"asset.note.{s.value}" for s in ReviewState}
    keys |= {f"review.level.{n}" for n in (1, 2, 3)}
    keys |= {f"qc.{s}" for s in QC} | {f"qc.stage.{s}" for s in STAGES}
    keys |= {f"kind.{k.value}" for k in AssetKind}
    keys |= {f"severity.{s.value}" for s in Severity}
    keys |= {f"priority.{p.value}" for p in PriorityClass}
    keys |= {f"sched_state.{s.value}" for s in ScheduleState}
    keys |= {f"fit.{f.value}" for f in Fit}
    keys |= {f"weekday.{n}" for n in range(7)}
    keys |= {f"history.{a}" for a in ("submit", "approve", "reject", "revoke")}
    keys |= {f"asset.done.{d}" for d in ("submitted", "approved", "rejected", "revoked")}
    keys |= {f"sched.done.{d}" for d in ("published", "unpublished")}
    return keys


def test_every_built_key_has_both_languages() -> None:
    missing = sorted(k for k in built_keys() if set(MESSAGES.get(k, {})) != set(i18n.LANGUAGES))
    assert not missing, f"keys without zh-CN and en: {missing}"


@pytest.mark.parametrize(
    ("reason", "zh", "en"),
    [
        ("public outranks local", "公共服务优先级高于本地", "public service outranks local"),
        (
            "more specific target (county over city)",
            "同级优先，目标更精确（区县级优于市级）",
            "same class, more specific target (county over city)",
        ),
        ("something new", "something new", "something new"),
    ],
)
def test_priority_reasons_read_naturally(reason: str, zh: str, en: str) -> None:
    assert reason_text("zh-CN", reason) == zh
    assert reason_text("en", reason) == en


def test_review_refusals_are_said_in_chinese() -> None:
    refusal = "you already passed level 1 of this asset; another reviewer must pass this level"
    assert in_chinese(refusal) == "您已通过该素材的第 1 级审核，本级须由另一位审核员完成"
    assert in_chinese("asset 'a.png' (x1) is rejected, not approved").startswith("素材“a.png”")
