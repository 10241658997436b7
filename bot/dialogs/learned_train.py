"""Training the learned net, in a process of its own.

scikit-learn, numpy and scipy take about 115 MB and 1.5 s to import; the bot needs them
only to fit the model, never to score with it. So `bot.dialogs.learned` runs this module
as a child process (`python -m bot.dialogs.learned_train`): it reads the normalised
example texts as JSON on stdin, fits the pipeline and writes the compact scorer's data
(plain lists and numbers, see `compact`) as JSON on stdout. The bot process scores with
that data alone (`bot.dialogs.learned.Scorer`), and keeps it on disk for the next start.

Only this module imports scikit-learn.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

# What the compact data holds; bump it when the pipeline below changes, so old caches retrain.
FORMAT = 1


def fit_pipeline(texts: Sequence[str], labels: Sequence[int]) -> Any:
    """The scikit-learn pipeline, fitted on already normalised texts (1 = risk, 0 = benign)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
    )
    model = make_pipeline(features, LogisticRegression(C=4.0, solver="liblinear", class_weight="balanced"))
    model.fit(list(texts), list(labels))
    return model


def compact(model: Any) -> dict[str, Any]:
    """The fitted pipeline as plain data: per vectorizer its n-grams, idf and coefficients."""
    union, regression = model.steps[0][1], model.steps[-1][1]
    coef = [float(c) for c in regression.coef_[0]]
    blocks = []
    offset = 0
    for _name, vectorizer in union.transformer_list:
        vocabulary: dict[str, int] = vectorizer.vocabulary_
        terms = sorted(vocabulary, key=vocabulary.__getitem__)
        size = len(terms)
        blocks.append(
            {
                "analyzer": vectorizer.analyzer,
                "ngram_range": list(vectorizer.ngram_range),
                "lowercase": bool(vectorizer.lowercase),
                "token_pattern": vectorizer.token_pattern,
                "sublinear_tf": bool(vectorizer.sublinear_tf),
                "norm": vectorizer.norm,
                "terms": terms,
                "idf": [float(x) for x in vectorizer.idf_],
                "coef": coef[offset : offset + size],
            }
        )
        offset += size
    if offset != len(coef):
        raise ValueError(f"the union has {offset} features but the regression {len(coef)}")
    return {"format": FORMAT, "blocks": blocks, "intercept": float(regression.intercept_[0])}


def train(texts: Sequence[str], labels: Sequence[int]) -> dict[str, Any]:
    return compact(fit_pipeline(texts, labels))


def main() -> None:
    job = json.loads(sys.stdin.buffer.read())
    data = train(job["texts"], job["labels"])
    sys.stdout.buffer.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
    sys.stdout.flush()


if __name__ == "__main__":
    main()
