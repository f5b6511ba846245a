"""Interface language: zh, en, ja, ko (the languages of the Dalian union's service guide).

The language of a page is, in order: a valid ``?lang=`` query parameter, the best match of the
``Accept-Language`` header (``zh-CN`` matches ``zh``), then :data:`DEFAULT_LANGUAGE`. Messages
live in ``webmap/translations/<lang>.json``; a key missing in one language falls back to English,
then to the key itself, so a page never breaks on a missing string.
"""

from __future__ import annotations

import json
import logging
import string
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from stations.model import LANGUAGES as MODEL_LANGUAGES

from ._errors import ParameterError

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "Translator",
    "check_language",
    "load_messages",
    "negotiate_language",
]

#: Interface languages, in the order the switch shows them (the model's one list).
LANGUAGES = MODEL_LANGUAGES
#: Used when neither ``?lang=`` nor ``Accept-Language`` says anything we speak.
DEFAULT_LANGUAGE = "zh"
#: Each language's name in itself (for the switch).
LANGUAGE_NAMES: dict[str, str] = {"zh": "中文", "en": "English", "ja": "日本語", "ko": "한국어"}
#: ``<html lang>`` values.
HTML_LANG: dict[str, str] = {"zh": "zh-Hans", "en": "en", "ja": "ja", "ko": "ko"}

_DIR = Path(__file__).parent / "translations"


@cache
def load_messages(lang: str) -> Mapping[str, str]:
    """The message catalogue of ``lang`` (read once per process).

    Raises
    ------
    ParameterError
        If ``lang`` is not one of :data:`LANGUAGES`.
    """
    check_language(lang)
    with (_DIR / f"{lang}.json").open(encoding="utf-8") as f:
        data = json.load(f)
    return {str(k): str(v) for k, v in data.items()}


def check_language(lang: Any) -> str:
    """Return ``lang`` if we speak it; raise :class:`ParameterError` otherwise."""
    if not isinstance(lang, str) or lang not in LANGUAGES:
        msg = f"Expected lang to be one of {', '.join(LANGUAGES)}, got {lang!r}"
        raise ParameterError(msg)
    return lang


def negotiate_language(query: str | None, accept_languages: Any = None) -> str:
    """Pick the interface language of a request.

    Parameters
    ----------
    query
        The ``?lang=`` value (``None`` when absent). An empty value counts as absent.
    accept_languages
        ``request.accept_languages`` (a werkzeug ``LanguageAccept``), or ``None``.

    Raises
    ------
    ParameterError
        If ``query`` names a language we do not speak.
    """
    if query:
        return check_language(query.strip().lower())
    if accept_languages is not None:
        best = accept_languages.best_match(LANGUAGES)
        if best:
            return str(best)
    return DEFAULT_LANGUAGE


def placeholders(message: str) -> set[str]:
    """Names of the ``{placeholders}`` in ``message``."""
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


class Translator:
    """Messages of one language, callable from Python and Jinja: ``t("walk_minutes", minutes=4)``.

    Parameters
    ----------
    lang
        One of :data:`LANGUAGES`.
    """

    def __init__(self, lang: str) -> None:
        self.lang = check_language(lang)
        self.messages = load_messages(lang)
        self._fallback = load_messages("en")

    def __call__(self, key: str, /, **params: Any) -> str:
        """The message ``key`` with ``params`` filled in (falls back to English, then the key)."""
        message = self.messages.get(key)
        if message is None:
            message = self._fallback.get(key)
            if message is None:
                return key.split(".")[-1].replace("_", " ")
        if params:
            try:
                return message.format(**params)
            except (KeyError, IndexError, ValueError):
                logger.warning("Bad placeholders in %s message %r", self.lang, key)
                return message
        return message

    def has(self, key: str) -> bool:
        """Whether ``key`` exists (in this language or in English)."""
        return key in self.messages or key in self._fallback

    def subset(self, prefixes: tuple[str, ...] = ()) -> dict[str, str]:
        """All messages (English filling gaps), optionally only keys starting with ``prefixes``."""
        merged = {**self._fallback, **self.messages}
        if not prefixes:
            return merged
        return {k: v for k, v in merged.items() if k.startswith(prefixes)}
