"""Responses kept per process, for pages many people ask for between two changes.

Each caller builds a key that changes whenever the answer may change (a version read from
the database, the language, the minute when the answer moves with the clock), so an entry
is never invalidated: it stops being asked for, and the least recently used go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import flask


class ResponseCache:
    """The last `size` responses, least recently used dropped first."""

    def __init__(self, size: int = 64):
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def of_app(name: str, size: int = 64) -> ResponseCache:
    """The app's cache called `name` (one per app, so per database), made on first use."""
    extensions = flask.current_app.extensions
    cache = extensions.get(f"esante_cache_{name}")
    if cache is None:
        cache = extensions.setdefault(f"esante_cache_{name}", ResponseCache(size))
    return cache
