"""The learned net: a second reader for what the text rules do not catch.

Hand-written rules are explainable but generalise slowly: people find new words for
the same thing every day. So beside the rules sits a small text classifier (character
and word n-grams, logistic regression, scikit-learn) trained on the labelled examples
an admin keeps in `dialogs/examples/`. It never alerts on its own: when the rules
find nothing and the classifier finds the text close enough to the risk examples, the
bot *asks* the person directly, and their answer decides. Adding an example phrase
to those files is how an admin teaches it; nothing here needs code.

Training takes about half a second on a few thousand phrases, plus the import of
scikit-learn; it happens once per process, on first use (`guidebot run` warms it up at
start), and a trained model is shared by every dialog set with the same examples.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.dialogs.matcher import fold_word

_WORD = re.compile(r"[^\W_]+")
_MODELS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _normal(text: str) -> str:
    return " ".join(fold_word(w) for w in _WORD.findall(text.casefold()))


@dataclass(frozen=True)
class LearnedNet:
    """Examples and a threshold; the model itself is trained lazily and cached by content."""

    risk: tuple[str, ...] = ()
    benign: tuple[str, ...] = ()
    threshold: float = 0.7
    signal: str = "risk_words"
    key: str = field(default="", compare=False)
    # Shorter texts ("ja", "kanskje?", "Barna mine") say too little for a guess; the rules read them.
    min_words: int = 4

    @classmethod
    def of(
        cls, risk: Sequence[str], benign: Sequence[str], threshold: float, signal: str, min_words: int = 4
    ) -> LearnedNet:
        digest = hashlib.sha256()
        for label, texts in (("risk", risk), ("benign", benign)):
            for text in texts:
                digest.update(f"{label}\0{text}\n".encode())
        return cls(tuple(risk), tuple(benign), threshold, signal, digest.hexdigest(), min_words)

    @property
    def enabled(self) -> bool:
        return bool(self.risk) and bool(self.benign)

    def _model(self) -> Any:
        model = _MODELS.get(self.key)
        if model is not None:
            return model
        with _LOCK:
            model = _MODELS.get(self.key)
            if model is None:
                model = _train(self.risk, self.benign)
                _MODELS[self.key] = model
        return model

    def warm_up(self) -> None:
        if self.enabled:
            self._model()

    def probability(self, text: str) -> float:
        """How close `text` is to the risk examples, 0 to 1 (0 when there are no examples)."""
        if not self.enabled:
            return 0.0
        normal = _normal(text)
        if len(normal.split()) < self.min_words:
            return 0.0
        return float(self._model().predict_proba([normal])[0][1])


def _train(risk: Sequence[str], benign: Sequence[str]) -> Any:
    # scikit-learn takes about 1.5 s to import: only here, so commands that never train do not wait for it.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
    )
    model = make_pipeline(features, LogisticRegression(C=4.0, solver="liblinear", class_weight="balanced"))
    texts = [_normal(t) for t in (*risk, *benign)]
    model.fit(texts, [1] * len(risk) + [0] * len(benign))
    return model
