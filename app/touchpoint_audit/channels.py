"""The company's channel vocabulary: one key per channel, its names and aliases.

Observations store the key. Whatever a form or a file says (``Telefon``,
``Tel.``, ``Hotline``, ``phone``) is mapped to it here, so that spellings never
split a like-for-like comparison; a word the vocabulary does not know is a
problem with a suggestion, never a new channel.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from app.extensions import db
from app.touchpoint_audit.models import Channel

#: The default vocabulary (the migration that created the table and ``flask touchpoints seed`` add it).
DEFAULT_CHANNELS = [
    {"key": "phone", "name_en": "Phone", "name_de": "Telefon",
     "aliases": ["Tel.", "Hotline", "Anruf", "Telephone", "Call", "Callcenter"]},
    {"key": "email", "name_en": "E-mail", "name_de": "E-Mail", "aliases": ["Mail", "Brief per Mail"]},
    {"key": "online", "name_en": "Online", "name_de": "Online",
     "aliases": ["Web", "Internet", "Website", "Webseite", "Onlineshop", "Portal", "App"]},
    {"key": "branch", "name_en": "Branch", "name_de": "Filiale",
     "aliases": ["Geschäftsstelle", "Niederlassung", "Store", "Laden"]},
    {"key": "field", "name_en": "Field sales", "name_de": "Außendienst",
     "aliases": ["Aussendienst", "Vor Ort", "On site", "Field"]},
    {"key": "chat", "name_en": "Chat", "name_de": "Chat", "aliases": ["Live-Chat", "Messenger", "WhatsApp"]},
]

_IGNORED = re.compile(r"[\s.\-_/]+")


def normalize(word: str) -> str:
    """The form a channel word is compared in: case, spaces, dots, hyphens and slashes ignored."""
    return _IGNORED.sub("", str(word or "")).casefold()


@dataclass
class Vocabulary:
    """Words → channel key, and each key's names for display."""

    words: dict[str, str]
    names: dict[str, dict[str, str]]  # key -> {"de": …, "en": …}

    def key_of(self, word: str) -> str | None:
        """The channel key a word stands for, or None when the vocabulary does not know it."""
        return self.words.get(normalize(word))

    def suggestion(self, word: str, locale: str) -> str | None:
        """The name (in ``locale``) of the channel whose word is closest to ``word``, if any is close."""
        close = difflib.get_close_matches(normalize(word), list(self.words), n=1, cutoff=0.6)
        if not close:
            return None
        return self.name(self.words[close[0]], locale)

    def name(self, key: str, locale: str) -> str:
        """A channel's name in ``locale``; the key itself for a key the vocabulary does not hold."""
        names = self.names.get(key)
        return names.get(locale, names["en"]) if names else key

    def choices(self, locale: str) -> list[str]:
        """The channels' names in ``locale``, for suggestions in a form."""
        return [names.get(locale, names["en"]) for names in self.names.values()]


def _entries(active_only: bool) -> list[dict]:
    query = db.select(Channel).order_by(Channel.position, Channel.id)
    rows = db.session.scalars(query.where(Channel.active.is_(True)) if active_only else query).all()
    if not rows and db.session.scalar(db.select(db.func.count(Channel.id))) == 0:
        return DEFAULT_CHANNELS  # a database that never had the vocabulary seeded
    return [{"key": c.key, "name_en": c.name_en, "name_de": c.name_de, "aliases": c.alias_list} for c in rows]


def vocabulary(active_only: bool = True) -> Vocabulary:
    """The company's channels as a vocabulary: the active ones (what may be logged or imported), or
    all of them (to read stored observations, which may name a channel deactivated since)."""
    words: dict[str, str] = {}
    names: dict[str, dict[str, str]] = {}
    for entry in _entries(active_only):
        names[entry["key"]] = {"de": entry["name_de"], "en": entry["name_en"]}
        for word in (entry["key"], entry["name_en"], entry["name_de"], *entry["aliases"]):
            words.setdefault(normalize(word), entry["key"])
    return Vocabulary(words, names)


def alias_owner(word: str, channel_id: int | None = None) -> Channel | None:
    """Another channel that already has this word as key, name or alias."""
    wanted = normalize(word)
    for channel in db.session.scalars(db.select(Channel)):
        if channel.id == channel_id:
            continue
        if wanted in {normalize(w) for w in (channel.key, channel.name_en, channel.name_de, *channel.alias_list)}:
            return channel
    return None


def seed_channels() -> int:
    """Add the default channels whose key is missing; returns how many were added."""
    have = set(db.session.scalars(db.select(Channel.key)))
    added = 0
    for position, entry in enumerate(DEFAULT_CHANNELS):
        if entry["key"] in have:
            continue
        db.session.add(Channel(key=entry["key"], name_en=entry["name_en"], name_de=entry["name_de"],
                               aliases="\n".join(entry["aliases"]), position=position))
        added += 1
    db.session.flush()
    return added
