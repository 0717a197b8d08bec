"""Realistic words for strings: names, e-mail addresses, cities, digits when the field name
says so."""

from __future__ import annotations

WORDS = (  # noqa: SIM905 (a list literal would take a line per word)
    "alpha apple amber anchor arrow autumn badge basil beacon birch blue bold breeze bright "
    "cable candle canyon cedar cherry cloud cobalt comet copper coral crane crystal dawn delta "
    "desert dune eagle echo ember falcon fern field flint forest frost garnet gentle glacier "
    "granite harbor hazel honey horizon indigo island ivory jade jasper jungle kettle lagoon "
    "lantern lemon lilac linen lotus lunar maple marble meadow mint misty nectar noble north "
    "oak ocean olive onyx orbit orchid pearl pepper pine planet plum prairie quartz quiet rain "
    "raven river robin ruby saffron sage silver slate spruce stone storm summit sunny swift "
    "thunder tiger topaz tulip valley velvet violet walnut willow winter zephyr"
).split()
FIRST_NAMES = (  # noqa: SIM905 (a list literal would take a line per word)
    "Alice Bob Carol David Emma Frank Grace Henry Irene Jack Karen Liam Maria Noah Olivia Paul "
    "Quinn Rosa Sam Tara Umar Vera Walter Xenia Yusuf Zoe Aiko Bruno Chen Dmitri Elena Fatima"
).split()
LAST_NAMES = (  # noqa: SIM905 (a list literal would take a line per word)
    "Jones Smith Garcia Miller Brown Davis Wilson Moore Taylor Anderson Thomas Martin Lee "
    "Walker Young King Wright Lopez Hill Green Adams Baker Nelson Carter Mitchell Perez Roberts"
).split()
CITIES = (  # noqa: SIM905 (a list literal would take a line per word)
    "Springfield Riverside Franklin Greenville Bristol Clinton Fairview Salem Madison "
    "Georgetown Arlington Ashland Dover Oxford Jackson Burlington Manchester Milton Newport "
    "Auburn"
).split()
DOMAINS = ("example.com", "example.org", "example.net", "mail.test")
COUNTRIES = ("US", "GB", "DE", "FR", "JP", "BR", "IN", "CA", "AU", "NL")

# Hints taken from field names: they only choose among realistic values of the same type.
H_NONE, H_EMAIL, H_FIRST, H_LAST, H_NAME, H_CITY, H_COUNTRY, H_URL = range(8)
H_ID, H_AGE, H_YEAR, H_COUNT, H_STREET, H_PHONE = range(8, 14)
#: Digit strings of a realistic width: hint -> (min digits, max digits).
_DIGITS = {
    "countrycode": (1, 2),
    "areacode": (3, 3),
    "prefix": (3, 3),
    "zip": (5, 5),
    "postal": (5, 5),
    "number": (4, 4),
}
_DIGIT_HINTS = {name: 100 + i for i, name in enumerate(_DIGITS)}
DIGIT_WIDTHS = {100 + i: width for i, width in enumerate(_DIGITS.values())}


def hint(field_name: str) -> int:
    n = field_name.lower().replace("_", "").replace("-", "")
    for key, hint in _DIGIT_HINTS.items():
        if key in n:
            return hint
    if "email" in n or "mail" in n:
        return H_EMAIL
    if "phone" in n or "mobile" in n:
        return H_PHONE
    if "first" in n or "given" in n:
        return H_FIRST
    if "last" in n or "surname" in n or "family" in n:
        return H_LAST
    if "country" in n:
        return H_COUNTRY
    if "city" in n or "town" in n:
        return H_CITY
    if "street" in n or "address" in n:
        return H_STREET
    if "url" in n or "link" in n or "href" in n:
        return H_URL
    if "name" in n or "nick" in n:
        return H_NAME
    if n == "age":
        return H_AGE
    if "year" in n:
        return H_YEAR
    if any(k in n for k in ("count", "qty", "quantity", "size", "total")):
        return H_COUNT
    if n == "id" or n.endswith("id"):
        return H_ID
    return H_NONE
