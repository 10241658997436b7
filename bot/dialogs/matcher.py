"""Matching the text rules of `dialogs/escalation.yaml` against what a person writes.

People rarely write the textbook phrase. They write nynorsk or dialect, drop æøå,
misspell, stretch letters for emphasis, mix in English and slang, and use emoji.
So a text and every rule are *folded* alike before they meet:

- case, width and accents go; æ → e, ø → o, å → a, and so do their ASCII stand-ins
  (ae, oe, aa); a run of one letter becomes one letter ("dddø" and "dø" alike);
- emoji named in the rules become words (🪦 → `emoji_grave`);
- a rule word of five letters or more also matches at edit distance one
  (a letter missing, added, changed or two swapped), so "selvmrod" is "selvmord".

A rule is a list of patterns. A pattern is words in order; `a|b` is either word,
`a+b` two words in a row, `word*` any ending, `@group` any word of a named group,
`@gap` any one word, and a trailing `?` makes an element optional. Up to `gap`
other words may stand between two elements, but never a negation: "vil ikke dø"
does not match "vil dø". Exception words match only as written (folded).

Look-alikes are kept quiet in two ways, both data:
- an *exception* names patterns that, anywhere in the same clause, mark the talk as
  something else (a course on prevention, a documentary, "died laughing"); a rule
  lists the exceptions that apply to it in `unless`;
- a *denial* is a negation standing just before a match in the same clause ("jeg er
  ikke suicidal"). Clauses end at punctuation and at words like "men" and "but", so
  "not suicidal, but I want to disappear" still matches its second half.

Nothing here grades risk; a match is a reason for a human to look.

Speed: every text a person writes is scanned, so a sentence tries only the patterns
that can start at one of its words (`TextRules.heads`, built at compile time from each
pattern's first elements up to its first required one) and whose required elements all
have a word in the sentence; clause numbers are worked out only for a sentence with a
match. `find_matches(..., indexed=False)` tries every pattern at every word instead: the
reference the index must agree with (tests and `bench/escalation_speed.py`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

# `none` rules mark plain statements of no risk ("jeg vil ikke dø"): they raise nothing, and the
# learned net leaves a text alone that a rule has judged.
ACTIONS = ("alert", "ask", "none")
_WORD = re.compile(r"[^\W_]+")
_SENTENCE_END = re.compile(r"[.!?;\n]+")
_CLAUSE_END = re.compile(r"[,:()\[\]\"«»–—]+|\s-\s")
_APOSTROPHE = re.compile(r"(?<=\w)['’`´](?=\w)")
_ACCENTS = str.maketrans({"æ": "e", "ä": "e", "ø": "o", "ö": "o", "å": "a", "ß": "s"})
_PAIRS = (("aa", "a"), ("ae", "e"), ("oe", "o"))
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """One spelling for the ways a word is typed: 'Væææære', 'vaere' and 'vare' meet at 'vere'/'vare'."""
    text = unicodedata.normalize("NFKD", word.casefold().translate(_ACCENTS))
    if not text.isascii():  # else there is no combining mark nor accent left to take away
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        text = text.translate(_ACCENTS)
    for pair, single in _PAIRS:
        text = text.replace(pair, single)
    return _REPEATS.sub(r"\1", text)


def _is_emoji(ch: str) -> bool:
    return unicodedata.category(ch) == "So"


def _tokens(text: str, emoji: Mapping[str, str]) -> list[str]:
    """Folded words, with each named emoji as a word of its own."""
    return [folded for folded, _raw in _token_pairs(text, emoji)]


def _token_pairs(text: str, emoji: Mapping[str, str]) -> list[tuple[str, str]]:
    """(folded, as written) for each word and named emoji."""
    out: list[tuple[str, str]] = []
    for chunk in text.split():
        words = chunk
        if any(_is_emoji(ch) for ch in chunk):
            words = "".join(" " if _is_emoji(ch) or ch == "\ufe0f" else ch for ch in chunk)
            out.extend((emoji[ch], ch) for ch in chunk if ch in emoji)
        for match in _WORD.finditer(_APOSTROPHE.sub("", words)):
            out.append((fold_word(match.group(0)), match.group(0)))
    return out


@lru_cache(maxsize=262144)
def _near(a: str, b: str) -> bool:
    """A likely typo of one another: one letter missing, added or two swapped, or, in words
    of `SUBSTITUTION_MIN` letters or more, one letter changed; never the first letter.

    Changing a letter in a short word makes another word too often ("trene" and
    "brenne", "klarte" and "klorte"), and people rarely mistype the first letter.
    """
    if a == b:
        return True
    if not a or not b or a[0] != b[0]:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diffs = [i for i in range(la) if a[i] != b[i]]
        if len(diffs) == 1:
            return la >= SUBSTITUTION_MIN
        return (
            len(diffs) == 2 and diffs[1] == diffs[0] + 1 and a[diffs[0]] == b[diffs[1]] and a[diffs[1]] == b[diffs[0]]
        )
    if la > lb:
        a, b = b, a
    return any(a[:i] == b[:i] and a[i:] == b[i + 1 :] for i in range(len(a) + 1))


SUBSTITUTION_MIN = 8  # words this long (folded) may also have one letter changed
FUZZY_MIN = 6  # words this long (folded) also match at edit distance one


@dataclass(frozen=True)
class Word:
    """One alternative of an element: a folded word, or a stem with `*`."""

    text: str
    prefix: bool = False
    fuzzy: bool = True  # exception words match only as written (and folded)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_hash", hash((self.text, self.prefix, self.fuzzy)))

    def __hash__(self) -> int:  # sets of Words are intersected on every scan: hash once
        return self._hash  # type: ignore[attr-defined, no-any-return]

    def matches(self, token: str) -> bool:
        if self.prefix:
            if token.startswith(self.text):
                return True
            n = len(self.text)
            return (
                self.fuzzy
                and n >= FUZZY_MIN
                and any(_near(token[:k], self.text) for k in (n - 1, n, n + 1) if k <= len(token))
            )
        if token == self.text:
            return True
        # both sides long: a letter dropped from a long word often makes a short real one ("skjere", "skjer")
        return self.fuzzy and len(self.text) >= FUZZY_MIN and len(token) >= FUZZY_MIN and _near(token, self.text)


def _deletions(text: str) -> set[str]:
    return {text, *(text[:i] + text[i + 1 :] for i in range(len(text)))}


class WordIndex:
    """Which rule words a text word matches, found by lookup rather than by trying them all.

    Fuzzy candidates come from a one-deletion neighbourhood (what two words at edit
    distance one always share) and are then checked exactly.
    """

    def __init__(self, words: Iterable[Word]) -> None:
        self.exact: dict[str, set[Word]] = defaultdict(set)
        self.prefixes: dict[str, set[Word]] = defaultdict(set)
        self.near_exact: dict[str, set[Word]] = defaultdict(set)
        self.near_prefix: dict[str, set[Word]] = defaultdict(set)
        self.lengths: set[int] = set()
        for word in set(words):
            if word.prefix:
                self.prefixes[word.text].add(word)
                self.lengths.add(len(word.text))
            else:
                self.exact[word.text].add(word)
            if word.fuzzy and len(word.text) >= FUZZY_MIN:
                table = self.near_prefix if word.prefix else self.near_exact
                for variant in _deletions(word.text):
                    table[variant].add(word)
        self._cache: dict[str, frozenset[Word]] = {}

    def words_for(self, token: str) -> frozenset[Word]:
        found = self._cache.get(token)
        if found is not None:
            return found
        hits: set[Word] = set(self.exact.get(token, ()))
        for k in range(1, len(token) + 1):
            hits.update(self.prefixes.get(token[:k], ()))
        if len(token) >= FUZZY_MIN - 1:
            for variant in _deletions(token):
                hits.update(w for w in self.near_exact.get(variant, ()) if w.matches(token))
            for k in range(FUZZY_MIN - 1, len(token) + 2):
                head = token[:k]
                for variant in _deletions(head):
                    hits.update(w for w in self.near_prefix.get(variant, ()) if w.matches(token))
        result = frozenset(hits)
        if len(self._cache) > 50_000:
            self._cache.clear()
        self._cache[token] = result
        return result


@dataclass(frozen=True)
class Element:
    """One place in a pattern: alternatives, each one word or several in a row (`ta+vare+på`)."""

    alternatives: tuple[tuple[Word, ...], ...]
    optional: bool = False
    source: str = ""
    wildcard: bool = False  # `@gap`: any one word but a negation
    single: frozenset[Word] = frozenset()
    multi: tuple[tuple[Word, ...], ...] = ()

    @classmethod
    def of(cls, alternatives: tuple[tuple[Word, ...], ...], optional: bool, source: str) -> Element:
        single = frozenset(a[0] for a in alternatives if len(a) == 1)
        multi = tuple(a for a in alternatives if len(a) > 1)
        return cls(alternatives, optional, source, single=single, multi=multi)

    def ends(self, words: Sequence[frozenset[Word]], at: int) -> list[int]:
        """Where a match of this element starting at `at` ends (exclusive); `words` per token."""
        if self.wildcard:
            return [at + 1] if at < len(words) else []
        here = words[at]
        found = [at + 1] if not self.single.isdisjoint(here) else []
        for seq in self.multi:
            end = at + len(seq)
            if seq[0] in here and end <= len(words) and all(w in words[at + i] for i, w in enumerate(seq)):
                found.append(end)
        return found

    @cached_property
    def first_words(self) -> frozenset[Word]:
        """The words a match of this element can begin with (a group's element is shared by many
        patterns, and each pattern asks for it three times: worked out once)."""
        return self.single | {seq[0] for seq in self.multi}


@dataclass(frozen=True)
class Pattern:
    source: str
    elements: tuple[Element, ...]
    head: frozenset[Word] = frozenset()  # a match starts at a word matching one of these ...
    open_head: bool = False  # ... or anywhere, when a first element is `@gap`
    required: tuple[frozenset[Word], ...] = ()  # each must have a word in the sentence
    # per required element: its index, its first words, and at most how many words the elements
    # before it take (a match starting at s reaches it by s + that + gap * (index + 1))
    anchors: tuple[tuple[int, frozenset[Word], int], ...] = ()

    @classmethod
    def of(cls, source: str, elements: tuple[Element, ...]) -> Pattern:
        head: set[Word] = set()
        open_head = False
        for element in elements:  # the first elements, up to and including the first required one
            if element.wildcard:
                open_head = True
            else:
                head |= element.first_words
            if not element.optional:
                break
        required = tuple(e.first_words for e in elements if not e.optional and not e.wildcard)
        widths = [1 if e.wildcard else max(len(a) for a in e.alternatives) for e in elements]
        anchors = tuple(
            (k, e.first_words, sum(widths[:k])) for k, e in enumerate(elements) if not e.optional and not e.wildcard
        )
        return cls(source, elements, frozenset(head), open_head, required, anchors)


@dataclass(frozen=True)
class Rule:
    id: str
    signal: str
    action: str
    category: str
    patterns: tuple[Pattern, ...]
    unless: tuple[str, ...] = ()
    deniable: bool = True


@dataclass(frozen=True)
class TextRules:
    """The compiled text rules: what `scan` runs on every text."""

    rules: tuple[Rule, ...] = ()
    exceptions: Mapping[str, tuple[Pattern, ...]] = field(default_factory=dict)
    negations: frozenset[str] = frozenset()
    denials: frozenset[str] = frozenset()
    clause_words: frozenset[str] = frozenset()
    emoji: Mapping[str, str] = field(default_factory=dict)
    gap: int = 2
    denial_window: int = 3
    # A denial after the match ("selvmordstanker har jeg ikke"): how far, and the words that
    # stop a denial's reach (subjects, subordinators) or cancel one ("ikke tull", "not deep").
    denial_after: int = 3
    denial_stops: frozenset[str] = frozenset()
    denial_cancels: frozenset[str] = frozenset()
    denials_after: frozenset[str] = frozenset()
    index: WordIndex = field(default_factory=lambda: WordIndex(()))
    # (rule, pattern) positions by a word their match can start with; `open_heads` can start anywhere
    heads: Mapping[Word, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    open_heads: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class Match:
    rule: Rule
    pattern: str
    words: str
    start: int
    end: int
    excepted_by: str = ""  # the exception (or "denial: …") that kept it quiet


# -- compiling ------------------------------------------------------------------

Fail = Callable[[str], None]


def _element(
    raw: str,
    groups: Mapping[str, tuple[Word, ...]],
    fail: Fail,
    fuzzy: bool,
    memo: dict[tuple[str, bool], Element] | None = None,
) -> Element | None:
    """One element of a pattern; `memo` keeps those already built with these groups (elements are
    immutable, and the same `@group|word` recurs across hundreds of patterns). A failing one is
    never kept, so each pattern that has it reports it."""
    if memo is not None:
        known = memo.get((raw, fuzzy))
        if known is None:
            built = _element(raw, groups, fail, fuzzy)
            if built is not None:
                memo[(raw, fuzzy)] = built
            return built
        return known
    optional = raw.endswith("?") and len(raw) > 1
    body = raw[:-1] if optional else raw
    if body == "@gap":
        return Element((), optional, raw, wildcard=True)
    alternatives: list[tuple[Word, ...]] = []
    for alt in body.split("|"):
        if alt.startswith("@"):
            group = groups.get(alt[1:])
            if group is None:
                fail(f"unknown word group '{alt}'")
                return None
            alternatives.extend((w if fuzzy else _word(w.text, w.prefix, False),) for w in group)
        elif alt:
            alternatives.append(tuple(w for part in alt.split("+") if part for w in _words(part, fuzzy)))
    if not alternatives or not all(alternatives):
        fail(f"empty element '{raw}'")
        return None
    return Element.of(tuple(alternatives), optional, raw)


@lru_cache(maxsize=65536)
def _words(raw: str, fuzzy: bool = True) -> tuple[Word, ...]:
    prefix = raw.endswith("*")
    return (_word(_one_word(raw.rstrip("*")), prefix, fuzzy),)


@lru_cache(maxsize=65536)
def _word(text: str, prefix: bool, fuzzy: bool) -> Word:
    """Words are immutable and compared by value: one object for each, however often rules name it."""
    return Word(text, prefix, fuzzy)


@lru_cache(maxsize=65536)
def _one_word(raw: str) -> str:
    """A rule word folded as text words are ("don't" → "dont", "self-harm" → "selfharm")."""
    return "".join(fold_word(w) for w in _WORD.findall(_APOSTROPHE.sub("", raw))) or raw


def compile_pattern(
    source: str,
    groups: Mapping[str, tuple[Word, ...]],
    fail: Fail,
    *,
    fuzzy: bool = True,
    memo: dict[tuple[str, bool], Element] | None = None,
) -> Pattern | None:
    parts = source.split()
    elements = [_element(p, groups, fail, fuzzy, memo) for p in parts]
    if not parts or any(e is None for e in elements):
        if not parts:
            fail("empty pattern")
        return None
    kept = tuple(e for e in elements if e is not None)
    if all(e.optional for e in kept):
        fail(f"pattern '{source}' has only optional words")
        return None
    return Pattern.of(source, kept)


def compile_groups(raw: Mapping[str, Sequence[str]], fail: Callable[[str, str], None]) -> dict[str, tuple[Word, ...]]:
    groups: dict[str, tuple[Word, ...]] = {}
    for name, items in raw.items():
        words: list[Word] = []
        for item in items:
            if not isinstance(item, str) or not item.strip() or " " in item.strip():
                fail(name, f"word group '{name}': '{item}' must be one word")
                continue
            words.extend(_words(item.strip()))
        groups[name] = tuple(words)
    return groups


# -- matching -------------------------------------------------------------------


WINDOW_MIN = 40  # in a sentence this long, starts are also narrowed to near a required word

Places = Mapping[Word, list[int]]  # where in a sentence each rule word stands


def _places(words: Sequence[frozenset[Word]]) -> dict[Word, list[int]]:
    places: dict[Word, list[int]] = defaultdict(list)
    for at, found in enumerate(words):
        for word in found:
            places[word].append(at)
    return places


def _window_starts(pattern: Pattern, places: Places, gap: int, length: int) -> list[int]:
    """The starts from which the pattern's rarest required element is within reach (a superset of the
    starts that can match), each also a place where the pattern's first words stand."""
    best: set[int] | None = None
    best_reach = 0
    for index, need, before in pattern.anchors:
        at = {p for word in need & places.keys() for p in places[word]}
        if best is None or len(at) < len(best):
            best, best_reach = at, before + gap * (index + 1)
    if best is None:
        return list(range(length))
    allowed = {s for p in best for s in range(max(0, p - best_reach), p + 1)}
    if not pattern.open_head:
        allowed &= {p for word in pattern.head & places.keys() for p in places[word]}
    return sorted(allowed)


def _find(
    pattern: Pattern,
    tokens: Sequence[str],
    words: Sequence[frozenset[Word]],
    negations: frozenset[str],
    gap: int,
    *,
    indexed: bool = True,
    places: Places | None = None,
) -> list[tuple[int, int]]:
    """Every (start, end) where the pattern matches; end is exclusive."""
    found: list[tuple[int, int]] = []
    first = pattern.elements[0]
    head, open_head = pattern.head, pattern.open_head
    memo: dict[tuple[int, int, bool], int] | None = {} if indexed else None
    starts: Iterable[int] = range(len(tokens))
    if indexed and places is not None:
        starts = _window_starts(pattern, places, gap, len(tokens))
    for start in starts:
        if indexed:
            if not open_head and head.isdisjoint(words[start]):
                continue
        elif not first.optional and not first.wildcard and first.single.isdisjoint(words[start]) and not first.multi:
            continue
        end = _match_from(pattern.elements, 0, tokens, words, start, negations, gap, first=True, memo=memo)
        if end is not None:
            found.append((start, end))
    return found


_NO_MATCH = -1


def _match_from(
    elements: Sequence[Element],
    i: int,
    tokens: Sequence[str],
    words: Sequence[frozenset[Word]],
    pos: int,
    negations: frozenset[str],
    gap: int,
    *,
    first: bool,
    memo: dict[tuple[int, int, bool], int] | None = None,
) -> int | None:
    """Where the elements from `i` on match from `pos` (the first way found), or None.

    The answer depends only on (i, pos, first) within one pattern and sentence, so `memo`
    keeps it: optional `@gap?` runs would otherwise try the same places over and over.
    """
    if i == len(elements):
        return pos
    if memo is not None:
        key = (i, pos, first)
        known = memo.get(key)
        if known is None:
            known = memo[key] = _search(elements, i, tokens, words, pos, negations, gap, first, memo)
        return None if known == _NO_MATCH else known
    done = _search(elements, i, tokens, words, pos, negations, gap, first, None)
    return None if done == _NO_MATCH else done


def _search(
    elements: Sequence[Element],
    i: int,
    tokens: Sequence[str],
    words: Sequence[frozenset[Word]],
    pos: int,
    negations: frozenset[str],
    gap: int,
    first: bool,
    memo: dict[tuple[int, int, bool], int] | None,
) -> int:
    element = elements[i]
    reach = 0 if first else gap
    for offset in range(reach + 1):
        at = pos + offset
        if at >= len(tokens):
            break
        if offset and tokens[at - 1] in negations:
            break  # a negation may not hide in a gap
        if element.wildcard and tokens[at] in negations:
            break
        for end in element.ends(words, at):
            done = _match_from(elements, i + 1, tokens, words, end, negations, gap, first=False, memo=memo)
            if done is not None:
                return done
    if element.optional:
        done = _match_from(elements, i + 1, tokens, words, pos, negations, gap, first=first, memo=memo)
        if done is not None:
            return done
    return _NO_MATCH


def _denied(rules: TextRules, tokens: Sequence[str], clause: Sequence[int], start: int, end: int) -> str:
    """The negation that denies a match in its clause, if any.

    Before the match ("jeg er ikke suicidal", "ingen tanker om å skade meg"), reaching
    back no further than a stop word ("not really, i want to die" is no denial); or
    just after it ("selvmordstanker har jeg ikke", "suicide isn't something i think
    about"), unless a cancel word follows the negation ("kuttet meg ikke dypt").
    """
    for back in range(1, rules.denial_window + 1):
        at = start - back
        if at < 0 or clause[at] != clause[start] or tokens[at] in rules.denial_stops:
            break
        if tokens[at] in rules.denials:
            return tokens[at]
    last = end - 1
    for ahead in range(rules.denial_after):
        at = end + ahead
        if at >= len(tokens) or clause[at] != clause[last]:
            break
        if tokens[at] in rules.denials_after:
            follows = tokens[at + 1] if at + 1 < len(tokens) and clause[at + 1] == clause[last] else ""
            return "" if follows in rules.denial_cancels else tokens[at]
    return ""


def _candidates(rules: TextRules, words: Sequence[frozenset[Word]]) -> list[tuple[Rule, Pattern]]:
    """The patterns that can match this sentence, in rule and pattern order."""
    present: set[Word] = set().union(*words)
    chosen = set(rules.open_heads)
    for word in present:
        chosen.update(rules.heads.get(word, ()))
    out: list[tuple[Rule, Pattern]] = []
    for rule_index, pattern_index in sorted(chosen):
        rule = rules.rules[rule_index]
        pattern = rule.patterns[pattern_index]
        if all(not need.isdisjoint(present) for need in pattern.required):
            out.append((rule, pattern))
    return out


def find_matches(rules: TextRules, text: str, *, indexed: bool = True) -> list[Match]:
    """Every match of every rule, in rule, pattern and word order; `indexed=False` is the plain reference."""
    matches: list[Match] = []
    for raw_sentence in _SENTENCE_END.split(text):
        pairs = _token_pairs(raw_sentence, rules.emoji)
        if not pairs:
            continue
        tokens = [folded for folded, _raw in pairs]
        written = [raw for _folded, raw in pairs]
        words = [rules.index.words_for(t) for t in tokens]
        candidates = (
            _candidates(rules, words)
            if indexed
            else [(rule, pattern) for rule in rules.rules for pattern in rule.patterns]
        )
        clause: list[int] = []
        parts: list[int] = []
        exception_spans: dict[str, list[tuple[int, int, str]]] = {}
        places = _places(words) if indexed and len(tokens) >= WINDOW_MIN else None
        for rule, pattern in candidates:
            for start, end in _find(pattern, tokens, words, rules.negations, rules.gap, indexed=indexed, places=places):
                if not clause:
                    clause = _clause_numbers(raw_sentence, tokens, rules)
                    parts = _clause_numbers(raw_sentence, tokens, rules, words=False)
                if parts[start] != parts[end - 1]:
                    continue  # a match never reaches across a comma: "sov itte godt, vakna" is two thoughts
                why = _exception(rules, rule, tokens, words, clause, start, end, exception_spans, indexed, places)
                if not why and rule.deniable:
                    negation = _denied(rules, tokens, clause, start, end)
                    why = f"denial: {negation}" if negation else ""
                matches.append(Match(rule, pattern.source, " ".join(written[start:end]), start, end, why))
    return matches


def _clause_numbers(raw_sentence: str, tokens: Sequence[str], rules: TextRules, *, words: bool = True) -> list[int]:
    """Clause numbers per token: commas and the like, and (with `words`) clause words, start a new clause."""
    numbers: list[int] = []
    current = 0
    for part_index, part in enumerate(_CLAUSE_END.split(raw_sentence)):
        if part_index:
            current += 1
        for token in _tokens(part, rules.emoji):
            if words and token in rules.clause_words and numbers:
                current += 1
            numbers.append(current)
    if len(numbers) != len(tokens):  # emoji next to punctuation can split differently: one clause then
        return [0] * len(tokens)
    return numbers


def _exception(
    rules: TextRules,
    rule: Rule,
    tokens: Sequence[str],
    words: Sequence[frozenset[Word]],
    clause: Sequence[int],
    start: int,
    end: int,
    cache: dict[str, list[tuple[int, int, str]]],
    indexed: bool = True,
    places: Places | None = None,
) -> str:
    """The exception (and the words that raised it) standing in the match's clause, if any."""
    wanted = {clause[i] for i in range(start, end)}
    for name in rule.unless:
        if name not in cache:
            cache[name] = [
                (s, e, p.source)
                for p in rules.exceptions.get(name, ())
                for s, e in _find(p, tokens, words, rules.negations, rules.gap, indexed=indexed, places=places)
            ]
        for s, e, _source in cache[name]:
            if any(clause[i] in wanted for i in range(s, e)):
                return f"{name}: {' '.join(tokens[s:e])}"
    return ""


def decide(matches: Iterable[Match]) -> str:
    """alert beats ask beats none; matches kept quiet by an exception count for nothing."""
    live = [m.rule.action for m in matches if not m.excepted_by]
    if "alert" in live:
        return "alert"
    return "ask" if "ask" in live else "none"


def _reporter(fail: Callable[[str, str], None], where: str, prefix: str) -> Fail:
    def report(message: str) -> None:
        fail(where, prefix + message)

    return report


def compile_rules(node: Mapping[str, Any], fail: Callable[[str, str], None]) -> TextRules:
    """Build TextRules from the `text:` mapping; `fail(key_path, message)` reports problems."""
    groups = compile_groups(node.get("words") or {}, lambda name, msg: fail(f"words.{name}", msg))

    def plain(key: str) -> frozenset[str]:
        items = node.get(key) or []
        return frozenset(fold_word(str(w)) for w in items)

    memo: dict[tuple[str, bool], Element] = {}  # elements built with these groups
    exceptions: dict[str, tuple[Pattern, ...]] = {}
    for name, patterns in (node.get("exceptions") or {}).items():
        report = _reporter(fail, f"exceptions.{name}", "")
        compiled = [compile_pattern(str(p), groups, report, fuzzy=False, memo=memo) for p in (patterns or [])]
        exceptions[str(name)] = tuple(p for p in compiled if p is not None)
    rules: list[Rule] = []
    for index, raw in enumerate(node.get("rules") or []):
        where = f"rules[{index}]"
        if not isinstance(raw, Mapping) or not raw.get("id"):
            fail(where, "a rule needs an id")
            continue
        rule_id = str(raw["id"])
        action = str(raw.get("action", "alert"))
        if action not in ACTIONS:
            fail(where, f"rule '{rule_id}': action must be alert, ask or none")
        unless = tuple(str(u) for u in raw.get("unless") or [])
        for name in unless:
            if name not in exceptions:
                fail(where, f"rule '{rule_id}': unknown exception '{name}'")
        report = _reporter(fail, where, f"rule '{rule_id}': ")
        compiled = [compile_pattern(str(p), groups, report, memo=memo) for p in raw.get("patterns") or []]
        if not compiled:
            fail(where, f"rule '{rule_id}' has no patterns")
        rules.append(
            Rule(
                id=rule_id,
                signal=str(raw.get("signal", "risk_words")),
                action=action,
                category=str(raw.get("category", "")),
                patterns=tuple(p for p in compiled if p is not None),
                unless=unless,
                deniable=bool(raw.get("deniable", True)),
            )
        )
    emoji = {str(k).replace("\ufe0f", ""): _one_word(str(v)) for k, v in (node.get("emoji") or {}).items()}
    negations = frozenset(w.text for w in groups.get("not", ()))
    every_word = [
        w
        for pattern in [*(p for r in rules for p in r.patterns), *(p for ps in exceptions.values() for p in ps)]
        for element in pattern.elements
        for alt in element.alternatives
        for w in alt
    ]
    heads: dict[Word, list[tuple[int, int]]] = defaultdict(list)
    open_heads: list[tuple[int, int]] = []
    for rule_index, rule in enumerate(rules):
        for pattern_index, pattern in enumerate(rule.patterns):
            if pattern.open_head:
                open_heads.append((rule_index, pattern_index))
            for word in pattern.head:
                heads[word].append((rule_index, pattern_index))
    return TextRules(
        index=WordIndex(every_word),
        heads={word: tuple(at) for word, at in heads.items()},
        open_heads=tuple(open_heads),
        rules=tuple(rules),
        exceptions=exceptions,
        negations=negations,
        denials=plain("denials") or negations,
        clause_words=plain("clause_words"),
        emoji=emoji,
        gap=int(node.get("gap", 2)),
        denial_window=int(node.get("denial_window", 3)),
        denial_after=int(node.get("denial_after", 3)),
        denial_stops=plain("denial_stops"),
        denial_cancels=plain("denial_cancels"),
        denials_after=plain("denials_after"),
    )
