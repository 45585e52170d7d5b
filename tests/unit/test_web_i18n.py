"""Every message key the console uses exists in both languages (no server needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lianbo.domain.regions import LEVEL_LENGTHS
from lianbo.domain.roles import Role
from lianbo.domain.terminal_csv import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from lianbo.domain.terminals import TerminalStatus, Tier
from lianbo.web import i18n
from lianbo.web.domain_messages import in_chinese
from lianbo.web.messages import MESSAGES

WEB = Path(i18n.__file__).parent
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]+)["']""")
PYTHON_KEY = re.compile(r"""["']((?:login|terminal|users|error)\.[a-z_]+)["']""")


def used_keys() -> set[str]:
    keys: set[str] = set()
    for template in (WEB / "templates").glob("*.html"):
        # A key ending in "." is a prefix joined to a value (``t("tier." ~ x)``).
        keys |= {k for k in LITERAL_KEY.findall(template.read_text()) if not k.endswith(".")}
    for module in (WEB / "pages").glob("*.py"):
        keys |= {k for k in PYTHON_KEY.findall(module.read_text()) if not k.endswith(".html")}
    # Keys built from a prefix and a value in the templates.
    keys |= {f"status.{s.value}" for s in TerminalStatus}
    keys |= {f"tier.{t.value}" for t in Tier}
    keys |= {f"role.{r.value}" for r in Role} | {f"role.{r.value}.desc" for r in Role}
    keys |= {f"level.{n}" for n in range(1, len(LEVEL_LENGTHS) + 1)}
    keys |= {f"import.col.{c}" for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    keys |= {f"dash.note.{s}" for s in ("online", "offline", "pending")}
    keys |= {f"error.{n}" for n in (400, 403, 404, 405, 409, 410, 429)} | {"error.csrf"}
    keys |= {f"{k}.hint" for k in keys if k.startswith("error.") and k != "error.home"}
    return keys


def test_every_used_key_has_both_languages() -> None:
    missing = sorted(k for k in used_keys() if set(MESSAGES.get(k, {})) != set(i18n.LANGUAGES))
    assert not missing, f"keys without zh-CN and en: {missing}"


def test_placeholders_match_between_languages() -> None:
    for key, texts in MESSAGES.items():
        fields = {lang: set(re.findall(r"{(\w+)}", text)) for lang, text in texts.items()}
        assert fields["zh-CN"] == fields["en"], key


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zh-CN", "zh-CN"),
        ("EN", "en"),
        ("zh-TW", "zh-CN"),
        ("en-GB", "en"),
        ("fr", None),
        ("", None),
    ],
)
def test_supported_languages(raw: str, expected: str | None) -> None:
    assert i18n.supported(raw) == expected


def test_unknown_keys_and_messages_fall_through_unchanged() -> None:
    assert i18n.translate("en", "no.such.key") == "no.such.key"
    assert in_chinese("something new happened") == "something new happened"
    assert in_chinese("row 7: latitude: not a number: 'x'") == "第 7 行：纬度：不是有效数字：'x'"
