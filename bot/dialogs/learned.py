"""The learned net: a second reader for what the text rules do not catch.

Hand-written rules are explainable but generalise slowly: people find new words for
the same thing every day. So beside the rules sits a small text classifier (character
and word n-grams, logistic regression, scikit-learn) trained on the labelled examples
an admin keeps in `dialogs/examples/`. It never alerts on its own: when the rules
find nothing and the classifier finds the text close enough to the risk examples, the
bot *asks* the person directly, and their answer decides. Adding an example phrase
to those files is how an admin teaches it; nothing here needs code.

The bot process never imports scikit-learn (with numpy and scipy it would cost about
115 MB and 1.5 s). Training runs in a child process (`bot.dialogs.learned_train`), which
hands back the fitted model as plain data: per vectorizer its n-grams, idf weights and
regression coefficients. `Scorer` scores with that data in pure Python and gives the same
probability as the scikit-learn pipeline (to within rounding, 1e-9). The data is kept on
disk keyed by the sha256 of the example files' bytes (of the texts, for a net made with
`LearnedNet.of`), so a restart finds it without parsing the examples and loads it in
milliseconds; training
happens once per set of examples, on first use (`guidebot run` warms it up at start),
and a scorer is shared by every dialog set with the same examples.

The scorer for the example files guidebot ships is shipped too, trained in advance
(`bot/dialogs/shipped/`, made with `python -m bot.dialogs.ship`): a first start on a new machine
reads it, where it would otherwise train for several seconds before it is ready. It is found
by the same key, so examples an admin has changed are trained as before.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
import zlib
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.dialogs.learned_train import FORMAT
from bot.dialogs.matcher import fold_word

log = logging.getLogger(__name__)

_WORD = re.compile(r"[^\W_]+")
_MODELS: dict[str, Scorer] = {}
_LOCK = threading.Lock()
# Where trained scorers are kept; None: see `cache_dir`.
CACHE_DIR: Path | None = None
# The scorers shipped with guidebot, for its own example files (`python -m bot.dialogs.ship`).
SHIPPED_DIR = Path(__file__).resolve().parent / "shipped"
# A child that fits a few thousand phrases takes seconds; this only stops a hung one.
TRAIN_TIMEOUT = 600.0
# How many normalised examples the cache keeps to check that `_normal` still gives the same.
_PROBES = 64


def _normal(text: str) -> str:
    return " ".join(fold_word(w) for w in _WORD.findall(text.casefold()))


class Examples:
    """The labelled example texts: given, or parsed from their files' bytes only when first needed.

    At a start with a known cache the scorer is read by its key alone, so the example files
    (thousands of lines) need not be parsed; `read` runs only when training needs the texts.
    """

    def __init__(
        self,
        risk: Sequence[str] = (),
        benign: Sequence[str] = (),
        read: Callable[[], tuple[Sequence[str], Sequence[str]]] | None = None,
    ) -> None:
        self._texts: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._read = read
        if read is None:
            self._texts = (tuple(risk), tuple(benign))
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._texts is not None

    def texts(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        texts = self._texts
        if texts is None:
            with self._lock:
                texts = self._texts
                if texts is None:
                    assert self._read is not None
                    risk, benign = self._read()
                    texts = self._texts = (tuple(risk), tuple(benign))
                    self._read = None
        return texts

    def enabled(self) -> bool:
        risk, benign = self.texts()
        return bool(risk) and bool(benign)


@dataclass(frozen=True)
class LearnedNet:
    """Examples and a threshold; the model itself is trained lazily and cached by content."""

    examples: Examples = field(default_factory=Examples, compare=False, repr=False)
    threshold: float = 0.7
    signal: str = "risk_words"
    key: str = ""
    # Shorter texts ("ja", "kanskje?", "Barna mine") say too little for a guess; the rules read them.
    min_words: int = 4

    @classmethod
    def of(
        cls, risk: Sequence[str], benign: Sequence[str], threshold: float, signal: str, min_words: int = 4
    ) -> LearnedNet:
        return cls(Examples(risk, benign), threshold, signal, _text_key(risk, benign), min_words)

    @classmethod
    def from_files(
        cls, files: Sequence[tuple[str, bytes]], examples: Examples, threshold: float, signal: str, min_words: int = 4
    ) -> LearnedNet:
        """A net keyed by its example files' bytes (label and content, in order), so that finding its
        cached scorer needs no parsing; `examples` gives the texts those bytes hold."""
        digest = hashlib.sha256(b"files\0")
        for label, data in files:
            digest.update(f"{label}\0{len(data)}\0".encode())
            digest.update(data)
        return cls(examples, threshold, signal, digest.hexdigest(), min_words)

    @property
    def risk(self) -> tuple[str, ...]:
        return self.examples.texts()[0]

    @property
    def benign(self) -> tuple[str, ...]:
        return self.examples.texts()[1]

    @property
    def enabled(self) -> bool:
        """Examples of both kinds. Not yet known for examples read lazily: then the scorer is looked
        for (as `warm_up` does), which finds a cached one without parsing the examples."""
        if self.key in _MODELS:
            return True
        if self.examples.loaded:
            return self.examples.enabled()
        return self._model() is not None

    def _model(self) -> Scorer | None:
        """The scorer: in memory, else from the disk cache, else trained; None without examples of both kinds."""
        model = _MODELS.get(self.key)
        if model is not None:
            return model
        if self.examples.loaded and not self.examples.enabled():
            return None
        with _LOCK:
            model = _MODELS.get(self.key)
            if model is None:
                model = _cached(self.key) or _shipped(self.key)
                if model is None:
                    risk, benign = self.examples.texts()
                    if not (risk and benign):
                        return None
                    model = _adopt(self.key, risk, benign) or _train_and_store(self.key, risk, benign)
                _MODELS[self.key] = model
        return model

    @property
    def ready(self) -> bool:
        """Whether the scorer is in memory, so `probability` answers at once."""
        return self.key in _MODELS or (self.examples.loaded and not self.examples.enabled())

    def warm_up(self) -> None:
        self._model()

    def probability(self, text: str) -> float:
        """How close `text` is to the risk examples, 0 to 1 (0 when there are no examples)."""
        if not self.enabled:
            return 0.0
        normal = _normal(text)
        if len(normal.split()) < self.min_words:
            return 0.0
        model = self._model()
        return model.probability(normal) if model is not None else 0.0


class _Block:
    """One vectorizer of the union: its analyzer, n-gram → column, idf and coefficients."""

    _white_spaces = re.compile(r"\s\s+")

    def __init__(self, data: dict[str, Any]) -> None:
        if data["norm"] != "l2":
            raise ValueError(f"unsupported norm {data['norm']!r}")
        self.analyzer: str = data["analyzer"]
        if self.analyzer not in ("char_wb", "word"):
            raise ValueError(f"unsupported analyzer {self.analyzer!r}")
        low, high = data["ngram_range"]
        self.low, self.high = int(low), int(high)
        self.lowercase = bool(data["lowercase"])
        self.sublinear = bool(data["sublinear_tf"])
        self.token = re.compile(data["token_pattern"])
        terms: list[str] = data["terms"]
        self.index = {term: i for i, term in enumerate(terms)}
        self.idf = array("d", data["idf"])
        self.coef = array("d", data["coef"])
        if not len(self.index) == len(terms) == len(self.idf) == len(self.coef):
            raise ValueError("terms, idf and coefficients differ in length")

    def ngrams(self, text: str) -> Iterable[str]:
        """What scikit-learn's analyzer yields for `text` (its `_char_wb_ngrams` / `_word_ngrams`)."""
        if self.lowercase:
            text = text.lower()
        low, high = self.low, self.high
        if self.analyzer == "char_wb":
            for word in self._white_spaces.sub(" ", text).split():
                padded = f" {word} "
                length = len(padded)
                for n in range(low, high + 1):
                    offset = 0
                    yield padded[:n]
                    while offset + n < length:
                        offset += 1
                        yield padded[offset : offset + n]
                    if offset == 0:  # a short word (length <= n) is counted once, as scikit-learn does
                        break
            return
        tokens = self.token.findall(text)
        if low == 1:
            yield from tokens
        for n in range(max(low, 2), min(high, len(tokens)) + 1):
            for i in range(len(tokens) - n + 1):
                yield " ".join(tokens[i : i + n])

    def score(self, text: str) -> float:
        """This block's share of the decision: its l2-normalised tf-idf row dotted with the coefficients."""
        index, idf, coef = self.index, self.idf, self.coef
        dot = 0.0
        square = 0.0
        for term, count in Counter(self.ngrams(text)).items():
            column = index.get(term)
            if column is None:
                continue
            value = (math.log(count) + 1.0 if self.sublinear else float(count)) * idf[column]
            square += value * value
            dot += value * coef[column]
        return dot / math.sqrt(square) if square > 0.0 else 0.0


class Scorer:
    """The fitted pipeline without scikit-learn: the same probability from plain data."""

    def __init__(self, data: dict[str, Any]) -> None:
        if data.get("format") != FORMAT:
            raise ValueError(f"scorer data of format {data.get('format')!r}, expected {FORMAT}")
        self.blocks = [_Block(block) for block in data["blocks"]]
        self.intercept = float(data["intercept"])

    def probability(self, text: str) -> float:
        """The probability of the risk class for an already normalised text."""
        z = self.intercept + sum(block.score(text) for block in self.blocks)
        if z >= 0.0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


def cache_dir() -> Path:
    """CACHE_DIR if set; else systemd's CacheDirectory= (docs/deploy/guidebot.service sets it, and
    ProtectHome= hides ~ there); else $XDG_CACHE_HOME/guidebot, else ~/.cache/guidebot."""
    if CACHE_DIR is not None:
        return CACHE_DIR
    systemd = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if systemd:
        return Path(systemd)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "guidebot"


def cache_path(key: str) -> Path:
    """The scorer's file: the examples' sha256, the data format and the scikit-learn that fitted it."""
    try:
        version = metadata.version("scikit-learn")
    except metadata.PackageNotFoundError:
        version = "none"
    return cache_dir() / f"learned-{FORMAT}-{version}-{key}.json"


def _cached(key: str) -> Scorer | None:
    """The scorer kept on disk for `key`, if it is there, whole, and normalises as this code does."""
    path = cache_path(key)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("learned net: cannot read its cache %s (%s); training it again", path, exc.strerror)
        return None
    return _scorer(raw, key, path)


def shipped_path(key: str) -> Path:
    return SHIPPED_DIR / f"learned-{FORMAT}-{key}.json.gz"


def _shipped(key: str) -> Scorer | None:
    """The scorer shipped for `key` (guidebot's own example files), if there is one and it fits."""
    path = shipped_path(key)
    try:
        raw = gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, EOFError, zlib.error) as exc:
        log.warning("learned net: the shipped scorer %s is unreadable (%s); training instead", path, exc)
        return None
    return _scorer(raw, key, path)


def _scorer(raw: bytes, key: str, path: Path) -> Scorer | None:
    """A scorer from its data, if the data is whole, for `key`, and normalises as this code does."""
    try:
        data = json.loads(raw)
        if data.get("key") != key:
            raise ValueError("it holds another set of examples")
        probes = data["probe"]
        if not probes or any(_normal(text) != normal for text, normal in probes):
            raise ValueError("the examples are normalised differently now")
        return Scorer(data)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        log.warning("learned net: %s is unreadable (%s); training instead", path, exc)
        return None


def _text_key(risk: Sequence[str], benign: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for label, texts in (("risk", risk), ("benign", benign)):
        for text in texts:
            digest.update(f"{label}\0{text}\n".encode())
    return digest.hexdigest()


def _adopt(key: str, risk: Sequence[str], benign: Sequence[str]) -> Scorer | None:
    """A scorer cached by an older guidebot under the key of the example texts (and with probes by
    index), taken over under `key` rather than trained again: a first start after the upgrade is
    then as quick as any. None where there is no such file, or it does not fit."""
    old = _text_key(risk, benign)
    if old == key:
        return None
    path = cache_path(old)
    try:
        data = json.loads(path.read_bytes())
        if data.get("key") != old:
            return None
        examples = (*risk, *benign)
        probes = [[examples[i], normal] for i, normal in data["probe"]]
        if not probes or any(_normal(text) != normal for text, normal in probes):
            return None
        data["key"], data["probe"] = key, probes
        scorer = Scorer(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None
    _store(cache_path(key), data)
    return scorer


def trained_data(key: str, risk: Sequence[str], benign: Sequence[str]) -> dict[str, Any]:
    """A scorer's data, trained now, with its key and probes."""
    data = _train(risk, benign)
    data["key"] = key
    # A sample of the examples with their normalised form: the key covers the examples, this the code
    # that normalises them (checked on every load without reading the examples).
    examples = (*risk, *benign)
    step = max(1, len(examples) // _PROBES)
    data["probe"] = [[examples[i], _normal(examples[i])] for i in range(0, len(examples), step)]
    return data


def _train_and_store(key: str, risk: Sequence[str], benign: Sequence[str]) -> Scorer:
    data = trained_data(key, risk, benign)
    scorer = Scorer(data)
    _store(cache_path(key), data)
    return scorer


def _store(path: Path, data: dict[str, Any]) -> None:
    """Write the scorer's data atomically (a temporary file, then a rename); where that fails, do without."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=".learned-", delete=False) as tmp:
            try:
                tmp.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
                tmp.flush()
                os.fsync(tmp.fileno())
            except BaseException:
                os.unlink(tmp.name)
                raise
        os.replace(tmp.name, path)
    except OSError as exc:
        log.info("learned net: not cached, %s is not writable (%s)", path.parent, exc.strerror)


class TrainingFailed(RuntimeError):
    pass


def _train(risk: Sequence[str], benign: Sequence[str]) -> dict[str, Any]:
    """Fit in a child process, which alone imports scikit-learn; the compact data comes back as JSON."""
    texts = [_normal(t) for t in (*risk, *benign)]
    job = json.dumps({"texts": texts, "labels": [1] * len(risk) + [0] * len(benign)}, ensure_ascii=False)
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])  # so the child finds `bot` even when it is not installed
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bot.dialogs.learned_train"],
            input=job.encode(),
            capture_output=True,
            env=env,
            timeout=TRAIN_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TrainingFailed(f"training the learned net took more than {TRAIN_TIMEOUT:.0f} s") from None
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        raise TrainingFailed(f"training the learned net failed ({lines[-1] if lines else f'exit {done.returncode}'})")
    data: dict[str, Any] = json.loads(done.stdout)
    return data
