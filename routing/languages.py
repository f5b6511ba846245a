"""The languages warmheart speaks: one list for OSM name tags, station names and the pages.

Chinese, English, Japanese and Korean — the languages of the Dalian union's service guide.
Lives in the bottom layer so that the OSM readers (``name:zh`` ...) use the same list as
:mod:`stations.model` and the web interface.
"""

from __future__ import annotations

__all__ = ["LANGUAGES"]

#: Language codes, in the order the interface offers them.
LANGUAGES: tuple[str, ...] = ("zh", "en", "ja", "ko")
