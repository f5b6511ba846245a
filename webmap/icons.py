"""Amenity icons: Font Awesome Free SVGs (from the installed XStatic package) as one sprite.

The locator shows each result's amenities as icon + word. Loading the Font Awesome web font
for 13 glyphs would cost a phone ~230 KB; instead the 13 SVG paths are read from the package
once and put in the page as one hidden ``<svg>`` of ``<symbol>``\\ s (~11 KB), which the page's
script references with ``<use href="#wh-i-<amenity>">``. Font Awesome Free icons are CC BY 4.0:
the sprite keeps their licence comment.
"""

from __future__ import annotations

import re
from functools import cache

from markupsafe import Markup

from .assets import library_dir

__all__ = ["AMENITY_ICONS", "icon_sprite"]

#: Amenity -> Font Awesome (solid) icon name. A test checks every amenity has one.
AMENITY_ICONS: dict[str, str] = {
    "microwave": "fire-burner",
    "hot_meal": "bowl-food",
    "drinking_water": "glass-water",
    "rest_seats": "chair",
    "shelter": "umbrella",
    "toilet": "restroom",
    "phone_charging": "plug",
    "sewing_kit": "scissors",
    "first_aid_kit": "kit-medical",
    "fridge": "snowflake",
    "steriliser": "pump-soap",
    "sofa": "couch",
    "private_room": "door-closed",
}
_SVG = re.compile(r'viewBox="([^"]+)".*?(<!--!.*?-->)?\s*(<path d="[^"]+"\s*/>)', re.DOTALL)


@cache
def icon_sprite() -> Markup:
    """The hidden ``<svg>`` holding one ``<symbol id="wh-i-<amenity>">`` per amenity."""
    folder = library_dir("font-awesome") / "svgs" / "solid"
    symbols = []
    notice = ""
    for amenity, name in AMENITY_ICONS.items():
        match = _SVG.search((folder / f"{name}.svg").read_text(encoding="utf-8"))
        if match is None:  # pragma: no cover - the package's own files
            msg = f"Expected a Font Awesome SVG path in {name}.svg"
            raise ValueError(msg)
        notice = notice or (match.group(2) or "")
        symbols.append(
            f'<symbol id="wh-i-{amenity}" viewBox="{match.group(1)}">{match.group(3)}</symbol>'
        )
    body = notice + "".join(symbols)
    hidden = "position:absolute;width:0;height:0;overflow:hidden"
    return Markup(  # noqa: S704 - the package's own SVG files, names from our vocabulary
        f'<svg xmlns="http://www.w3.org/2000/svg" aria-hidden="true" style="{hidden}">{body}</svg>'
    )
