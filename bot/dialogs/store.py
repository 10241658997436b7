"""The dialog set in use. A reload swaps it only when the new one is valid."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.dialogs.load import DialogsInvalid, load_dialogs
from bot.dialogs.model import DialogSet
from bot.dialogs.render import Renderer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Loaded:
    dialogs: DialogSet
    renderer: Renderer


class DialogStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._lock = threading.Lock()
        self._current = self._load()

    def _load(self) -> Loaded:
        # A set of files that passed the full check before is not checked again (verdict.py).
        dialogs = load_dialogs(self.root, trust=True, remember=True)
        return Loaded(dialogs, Renderer(dialogs.texts))

    @property
    def current(self) -> Loaded:
        return self._current

    def reload(self) -> DialogsInvalid | None:
        """Load the files again; on any problem keep the old set and return why."""
        try:
            loaded = self._load()
        except DialogsInvalid as exc:
            log.error("dialog reload refused; the previous dialogs stay in use:\n%s", exc)
            return exc
        with self._lock:
            self._current = loaded
        log.info("dialogs reloaded from %s", self.root)
        return None
