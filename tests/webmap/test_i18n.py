"""Interface languages zh/en/ja/ko: complete catalogues, negotiation, switch, station names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from webmap._errors import ParameterError
from webmap.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    Translator,
    load_messages,
    negotiate_language,
    placeholders,
)

WEBMAP = Path(__file__).resolve().parents[2] / "webmap"


def _accept(header: str) -> LanguageAccept:
    return parse_accept_header(header, LanguageAccept)


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    """Every language has every English key, non-empty, with the same {placeholders}."""
    english = load_messages("en")
    for lang in LANGUAGES:
        messages = load_messages(lang)
        assert set(messages) == set(english), lang
        for key, text in messages.items():
            assert text.strip(), (lang, key)
            assert placeholders(text) == placeholders(english[key]), (lang, key)


def test_catalogues_are_translated_not_copied() -> None:
    """zh, ja and ko differ from English for most strings (not English copies)."""
    english = load_messages("en")
    for lang in ("zh", "ja", "ko"):
        messages = load_messages(lang)
        same = [k for k in english if messages[k] == english[k]]
        assert len(same) < len(english) * 0.1, (lang, same)


def test_every_vocabulary_value_has_a_label() -> None:
    """Kinds, amenities, host types, access and unserved reasons all have messages."""
    from routing.shuttle import UNSERVED_REASONS
    from stations.model import ACCESS, AMENITIES, HOST_TYPES, KINDS

    english = load_messages("en")
    wanted = (
        [f"kind.{k}" for k in KINDS]
        + [f"amenity.{a}" for a in AMENITIES]
        + [f"host.{h}" for h in HOST_TYPES]
        + [f"access.{a}" for a in ACCESS]
        + [f"unserved_reason.{r}" for r in UNSERVED_REASONS]
    )
    missing = [k for k in wanted if k not in english]
    assert not missing


def test_every_key_used_in_templates_exists() -> None:
    """Each t("key") in the templates is in the English catalogue."""
    english = load_messages("en")
    used: set[str] = set()
    for template in (WEBMAP / "templates").glob("*.html"):
        used.update(re.findall(r"""\bt\(\s*["']([a-z_.]+)["']\s*[,)]""", template.read_text()))
    assert used, "no keys found: the pattern is wrong"
    assert sorted(used - set(english)) == []


def test_every_key_used_in_the_front_end_exists() -> None:
    """Each msg("key") in warmheart.js is in the English catalogue."""
    english = load_messages("en")
    js = (WEBMAP / "static" / "warmheart.js").read_text()
    used = set(re.findall(r"""msg\(\s*"([a-z_]+)"\s*[,)]""", js))
    assert {"walk_minutes", "open_now", "no_results"} <= used
    assert sorted(used - set(english)) == []


def test_catalogue_files_are_valid_utf8_json() -> None:
    """The translation files are flat JSON objects of strings."""
    for lang in LANGUAGES:
        data = json.loads((WEBMAP / "translations" / f"{lang}.json").read_text(encoding="utf-8"))
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in data.items())


@pytest.mark.parametrize(
    ("query", "header", "expected"),
    [
        (None, "ja,en;q=0.5", "ja"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, "ko-KR", "ko"),
        (None, "fr-FR,de;q=0.9", DEFAULT_LANGUAGE),
        (None, "", DEFAULT_LANGUAGE),
        ("en", "ja", "en"),
        ("KO", "zh", "ko"),
        ("", "ja", "ja"),
    ],
)
def test_negotiate_language(query: str | None, header: str, expected: str) -> None:
    """?lang= wins, then the best Accept-Language match (zh-CN -> zh), then the default."""
    assert negotiate_language(query, _accept(header)) == expected


def test_negotiate_language_rejects_unknown_query() -> None:
    """An explicit ?lang= we do not speak is an error, not a silent fallback."""
    with pytest.raises(ParameterError, match="Expected lang to be one of zh, en, ja, ko"):
        negotiate_language("fr", _accept("en"))


def test_translator_formats_and_falls_back() -> None:
    """Placeholders are filled; a missing key falls back to English, then to the key."""
    assert Translator("en")("walk_minutes", minutes=4) == "4 min walk"
    assert Translator("zh")("walk_minutes", minutes=4) == "步行 4 分钟"
    assert Translator("ja")("walk_minutes", minutes=4) == "徒歩 4 分"
    assert Translator("ko")("walk_minutes", minutes=4) == "도보 4분"
    assert Translator("ja")("kpi.some_new_figure") == "some new figure"


def test_accept_language_picks_page_language(client) -> None:
    """The locator speaks the browser's language and says so in <html lang>."""
    html = client.get("/", headers={"Accept-Language": "ja-JP,ja;q=0.9"}).get_data(as_text=True)
    assert '<html lang="ja">' in html
    assert "現在地から探す" in html
    html = client.get("/", headers={"Accept-Language": "ko"}).get_data(as_text=True)
    assert '<html lang="ko">' in html and "내 주변" in html


def test_query_overrides_accept_language(client) -> None:
    """?lang=en beats Accept-Language: zh."""
    html = client.get("/?lang=en", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Near me" in html


def test_switch_links_every_language_keeping_other_parameters(client) -> None:
    """The visible switch links all four languages and keeps the page's other parameters."""
    html = client.get("/?lang=en&kind=nursing_room").get_data(as_text=True)
    for lang in LANGUAGES:
        assert re.search(rf'href="[^"]*lang={lang}[^"]*" hreflang="{lang}"', html), lang
    assert re.search(r'href="[^"]*kind=nursing_room[^"]*lang=zh', html) or re.search(
        r'href="[^"]*lang=zh[^"]*kind=nursing_room', html
    )


def test_unknown_lang_falls_back(client) -> None:
    """?lang=fr on a page falls back to Accept-Language, then zh, instead of refusing."""
    r = client.get("/?lang=fr", headers={"Accept-Language": "fr-FR, ja;q=0.8"})
    assert r.status_code == 200 and '<html lang="ja">' in r.get_data(as_text=True)
    r = client.get("/embed/stations?lang=fr")
    assert r.status_code == 200 and '<html lang="zh-Hans">' in r.get_data(as_text=True)
    assert client.get("/planner?lang=" + "x" * 300).status_code == 200


def test_api_names_follow_accept_language(client) -> None:
    """Without ?lang=, API station names follow Accept-Language (zh-CN -> zh variant)."""
    zh = client.get("/api/stations/ws-01", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert zh.get_json()["properties"]["name"] == "测试站 ws-01"
    assert "Accept-Language" in zh.headers["Vary"]
    plain = client.get("/api/stations/ws-01")
    assert plain.get_json()["properties"]["name"] == "Test ws-01"
    en = client.get("/api/stations/ws-01?lang=en", headers={"Accept-Language": "zh-CN"})
    assert en.get_json()["properties"]["name"] == "Test ws-01"


def test_one_japanese_name_for_a_warm_station() -> None:
    """Japanese uses 暖心ステーション everywhere (interface and sample names), never ほっと…."""
    import json
    from pathlib import Path

    from stations import sample

    root = Path(__file__).resolve().parents[2]
    ja = json.loads((root / "webmap/translations/ja.json").read_text(encoding="utf-8"))
    assert ja["kind.warm_station"] == "暖心ステーション"
    assert sample._NAMES["warm_station"]["ja"].endswith(ja["kind.warm_station"])
    for path in [*root.glob("webmap/**/*.*"), *root.glob("stations/*.py")]:
        if path.suffix in (".py", ".json", ".html", ".js"):
            assert "ほっと" not in path.read_text(encoding="utf-8"), path


def test_station_names_follow_the_language(client) -> None:
    """Station names are shown in the chosen language where a variant exists, else as named."""
    zh = client.get("/?lang=zh").get_data(as_text=True)
    en = client.get("/?lang=en").get_data(as_text=True)
    ja = client.get("/?lang=ja").get_data(as_text=True)
    assert "测试站 ws-01" in zh and "测试站 ws-01" not in en
    assert '"Test ws-01"' in en
    assert '"Test ws-01"' in ja  # no Japanese variant: the station's own name


def test_every_planner_kpi_has_a_label(webmap_plan) -> None:
    """Each key compute_kpis returns has a translated label (the planner's KPI table)."""
    from routing.shuttle.kpi import compute_kpis

    kpis = compute_kpis(
        webmap_plan.lines, webmap_plan.assignments, webmap_plan.unserved, webmap_plan.fleet
    )
    shown = set(kpis) - {"unserved_by_reason"}  # the unserved table says it in words
    for lang in LANGUAGES:
        missing = [k for k in shown if f"kpi.{k}" not in load_messages(lang)]
        assert not missing, (lang, missing)
