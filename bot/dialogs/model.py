"""The validated, immutable form of the dialog files."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.dialogs.contract import RISK_ITEM
from bot.dialogs.learned import LearnedNet
from bot.dialogs.matcher import TextRules

Localized = dict[str, str]  # locale -> text


@dataclass(frozen=True)
class Locale:
    """One folder `dialogs/locales/<code>/`, as its `locale.yaml` describes it."""

    code: str
    name: str  # the language's own name
    telegram: tuple[str, ...] = ()  # Telegram language codes served, besides the code itself
    original: bool = False  # the locale the others are translated from
    translated_from: str = ""  # the locale this one was copied from
    same_on_purpose: tuple[str, ...] = ()  # keys (or patterns) rightly the same as in another locale
    order: int = 100  # the place on the /language buttons (then the original, then the code)


@dataclass(frozen=True)
class Choice:
    value: str
    text: str
    next: str | None = None
    flag: str | None = None


@dataclass(frozen=True)
class Branch:
    when: str
    next: str


@dataclass(frozen=True)
class Step:
    id: str
    kind: str  # say | ask | measure | do | branch
    text: str | None = None
    input: str = "text"
    choices: tuple[Choice, ...] = ()
    store: str | None = None
    measure: tuple[str, ...] | None = None  # None: the week's schedule
    action: str | None = None
    branches: tuple[Branch, ...] = ()
    next: str | None = None
    image: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    line: int = 0


@dataclass(frozen=True)
class Flow:
    id: str
    start: str
    steps: dict[str, Step]
    file: str = ""

    def following(self, step: Step) -> str | None:
        """The step after `step`: its own `next`, or the one below it in the file."""
        if step.next:
            return step.next
        ids = list(self.steps)
        position = ids.index(step.id)
        return ids[position + 1] if position + 1 < len(ids) else None


@dataclass(frozen=True)
class Option:
    value: int
    label: Localized


@dataclass(frozen=True)
class Band:
    max: int
    key: str
    label: Localized


@dataclass(frozen=True)
class Item:
    key: str
    text: Localized
    risk: bool = False


@dataclass(frozen=True)
class Instrument:
    id: str
    name: str
    stem: Localized
    options: tuple[Option, ...]
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    caseness: int
    reliable_change: int
    short_form_of: str | None = None  # PHQ-2 of PHQ-9: scored as itself, never a full total

    @property
    def full(self) -> bool:
        """A full form: the outcome report and the charts use these only."""
        return self.short_form_of is None

    @property
    def max_total(self) -> int:
        return max(o.value for o in self.options) * len(self.items)

    def band(self, total: int) -> Band:
        for band in self.bands:
            if total <= band.max:
                return band
        return self.bands[-1]

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)


@dataclass(frozen=True)
class Part:
    number: int
    title: Localized
    about: Localized
    homework: Localized
    link: Localized = field(default_factory=dict)  # the part's module in the online program, per locale


@dataclass(frozen=True)
class Program:
    id: str
    title: Localized
    summary: Localized
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Week:
    number: int
    flow: str
    instruments: tuple[str, ...]
    review_parts: tuple[int, ...] = ()
    next_parts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Schedule:
    weeks: dict[int, Week]
    reminder_hours: tuple[int, ...] = (24, 72)
    missed_weeks_to_dropout: int = 2
    min_days_between_checkins: int = 4
    first_checkin_min_days: int = 3
    risk_item: str = RISK_ITEM
    # Reminders are sent only between these local times ("HH:MM") in the course's time zone.
    waking_hours: tuple[str, str] = ("08:00", "21:00")
    # Days after the closing that a booster check-in comes; empty turns them off.
    booster_days: tuple[int, ...] = (30, 91)

    @property
    def last_week(self) -> int:
        return max(self.weeks)


@dataclass(frozen=True)
class SignalRule:
    name: str
    level: str
    thresholds: dict[str, int] = field(default_factory=dict)
    tell_user: bool = True


@dataclass(frozen=True)
class EscalationRules:
    signals: dict[str, SignalRule]
    text: TextRules = field(default_factory=TextRules)
    learned: LearnedNet = field(default_factory=LearnedNet)


@dataclass(frozen=True)
class DialogSet:
    flows: dict[str, Flow]
    programs: dict[str, Program]
    instruments: dict[str, Instrument]
    schedule: Schedule
    escalation: EscalationRules
    texts: dict[str, dict[str, str]]  # locale -> key -> template source
    source: str = ""
    locales: dict[str, Locale] = field(default_factory=dict)  # in their `order`

    def text(self, locale: str, key: str) -> str:
        return self.texts[locale][key]

    def locale_for(self, language_code: str | None, default: str) -> str:
        """The locale for a Telegram `language_code` ("nn", "en-GB"): a locale of that code,
        else one that lists the code under `telegram:`, else `default`."""
        if not language_code:
            return default
        code = language_code.lower().replace("_", "-")
        candidates = (code, code.split("-")[0])
        for candidate in candidates:
            if candidate in self.locales:
                return candidate
        for candidate in candidates:
            for locale in self.locales.values():
                if candidate in locale.telegram:
                    return locale.code
        return default
