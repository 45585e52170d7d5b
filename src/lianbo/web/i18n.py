"""Console translations: zh-CN first (our operators), English second.

One flat table of message keys keeps every visible string in one place, so a
missing translation is a one-line diff and a test can check that every key a
template uses exists in both languages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from lianbo.web.messages import MESSAGES

DEFAULT = "zh-CN"
LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
# What the switch shows for each language, written in that language.
LANGUAGE_NAMES: Mapping[str, str] = {"zh-CN": "中文", "en": "English"}

Translator = Callable[..., str]


def supported(language: str | None) -> str | None:
    """The canonical spelling of ``language`` if the console speaks it."""
    if not language:
        return None
    for known in LANGUAGES:
        if known.lower() == language.strip().lower():
            return known
    if language.lower().startswith("zh"):
        return DEFAULT
    if language.lower().startswith("en"):
        return "en"
    return None


def translate(language: str, key: str, **values: object) -> str:
    """The message ``key`` in ``language`` with ``{name}`` fields filled in.

    An unknown key comes back as itself rather than failing the page: an
    operator in the middle of an incident should see a raw key, not a 500.
    """
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(language) or entry[DEFAULT]
    return text.format(**values) if values else text


def translate_or(language: str, key: str, fallback: str) -> str:
    """The message ``key``, or ``fallback`` (a raw value) when there is none.

    For values the console names when it knows them (QC rules, renditions)
    and shows as they are when it does not.
    """
    return translate(language, key) if key in MESSAGES else fallback


def translator(language: str) -> Translator:
    """``t(key, **values)`` bound to one language, for templates."""

    def t(key: str, **values: object) -> str:
        return translate(language, key, **values)

    return t
