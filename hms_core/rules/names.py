"""Name normalisation for search and duplicate detection (accent- and case-insensitive)."""

import re
import unicodedata

import jellyfish

_WORD = re.compile(r"[a-z0-9]+")


# Letters Unicode does not decompose into a base letter plus an accent.
_LETTERS = str.maketrans(
    {"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "ı": "i", "đ": "d", "ð": "d", "þ": "th"}
)


def fold(text: str) -> str:
    """Lower-case `text` and strip accents: 'José Ñúñez' -> 'jose nunez', 'Łukasz' -> 'lukasz'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return stripped.translate(_LETTERS)


def name_tokens(*names: str | None) -> set[str]:
    """The distinct folded words of the given names, as stored in the search index."""
    words: set[str] = set()
    for name in names:
        if name:
            words.update(_WORD.findall(fold(name)))
    return words


def query_tokens(query: str) -> list[str]:
    """Folded words of a search query, in the order typed."""
    return _WORD.findall(fold(query))


def sort_name(given: str, family: str) -> str:
    return f"{fold(family)} {fold(given)}".strip()


def names_look_alike(a: str, b: str) -> bool:
    """Whether two full names are probably the same person's, allowing typos and spellings."""
    fa, fb = " ".join(sorted(name_tokens(a))), " ".join(sorted(name_tokens(b)))
    if not fa or not fb:
        return False
    if fa == fb:
        return True
    if jellyfish.jaro_winkler_similarity(fa, fb) >= 0.9:
        return True
    if jellyfish.damerau_levenshtein_distance(fa, fb) <= max(1, min(len(fa), len(fb)) // 6):
        return True
    return _phonetic_key(a) == _phonetic_key(b)


def _phonetic_key(name: str) -> str:
    return " ".join(sorted(jellyfish.metaphone(w) for w in name_tokens(name)))


_ORDERED = "0123456789abcdefghijklmnopqrstuvwxyz"


def prefix_upper_bound(prefix: str) -> str | None:
    """The smallest [0-9a-z] string greater than every string starting with `prefix`.

    Lets an ordinary B-tree answer "starts with" as a range, in any collation; None = no bound.
    """
    chars = list(prefix)
    while chars:
        position = _ORDERED.find(chars[-1])
        if 0 <= position < len(_ORDERED) - 1:
            chars[-1] = _ORDERED[position + 1]
            return "".join(chars)
        chars.pop()
    return None
