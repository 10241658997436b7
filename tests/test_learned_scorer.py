"""The learned net without scikit-learn in the bot process: the compact scorer, its cache, its child.

The equivalence test fits the scikit-learn pipeline here (tests may import it) and holds the
pure-Python `Scorer` to `predict_proba` on every example phrase, the measurement corpus and
texts made to be awkward. The rest train in a child process on a small made-up example set.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs import learned
from bot.dialogs.learned import LearnedNet, Scorer, _normal
from bot.dialogs.learned_train import compact, fit_pipeline
from bot.dialogs.load import load_dialogs
from bot.dialogs.ship import ship

CORPUS = Path(__file__).parent / "data" / "escalation_corpus"

RISK = (
    "jeg orker ikke mer av dette livet",
    "har tenkt at alle hadde hatt det bedre uten meg",
    "eg vil berre forsvinne for godt no",
    "I keep thinking everyone would be better off without me",
    "vil ikke våkne i morgen tidlig",
    "har lagt en plan for hvordan jeg skal gjøre det",
)
BENIGN = (
    "jeg orker ikke mer av denne regnværsdagen",
    "har tenkt å gå en lang tur i skogen i morgen",
    "eg vil berre sove lenge på laurdag",
    "I keep thinking about that film we watched",
    "vil ikke gå på jobb i morgen tidlig",
    "har lagt en plan for ferien vår i sommer",
)


def odd_texts(count: int) -> list[str]:
    """Texts made to be awkward: empty, whitespace of every kind, odd unicode, very long, random."""
    fixed = [
        "",
        " ",
        "\t\n\r\x0b\x0c",
        "a",
        "é",
        "Jeg VIL\tikke\n\n leve  MER",
        "ß straße İstanbul ǅemal ﬁne ﬀ",
        "🙂🙂 hei 🙂 på deg",
        "e\u0301 combining marks é",
        "zero\u200bwidth\u00a0nbsp\u2003em space",
        "العربية עברית русский 中文 日本語",
        "x" * 5000,
        " ".join(["ord"] * 3000),
        "a b c d e f g h",
        "__init__ snake_case 123 4567 3.14",
        "jeg_vil_ikke_leve",
        "!!!???...",
        "ta livet mitt",
    ]
    rng = random.Random(11)
    alphabet = "abcdefghijklmnopqrstuvwxyzæøåéü ÆØÅ  \t\n.,!?-_'0123456789🙂"
    made = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120))) for _ in range(count)]
    return fixed + made


def corpus_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(CORPUS.glob("*.yaml")):
        texts.extend(str(row["text"]) for row in yaml.safe_load(path.read_text(encoding="utf-8")))
    return texts


def test_the_compact_scorer_gives_scikit_learns_probability() -> None:
    net = load_dialogs(DEFAULT_DIALOGS_DIR).escalation.learned
    texts = [_normal(t) for t in (*net.risk, *net.benign)]
    model = fit_pipeline(texts, [1] * len(net.risk) + [0] * len(net.benign))
    data = json.loads(json.dumps(compact(model)))  # through JSON, as the cache holds it
    scorer = Scorer(data)
    odd = odd_texts(300)
    probe = [*texts, *corpus_texts(), *odd, *(_normal(t) for t in odd)]
    expected = model.predict_proba(probe)[:, 1]
    worst = max(abs(scorer.probability(text) - float(p)) for text, p in zip(probe, expected, strict=True))
    assert worst <= 1e-9
    # and the probe reaches both ends, so the agreement means something
    assert min(expected) < 0.1 and max(expected) > 0.9
    # the scorer shipped for these examples (bot/dialogs/shipped/) is the one trained here. Not to
    # the last bit: liblinear stops at its tolerance, and another scikit-learn, numpy or CPU stops it
    # a hair elsewhere (1.3e-7 between two machines). The same model all the same: every text falls
    # on the same side of the threshold.
    shipped = learned._shipped(net.key)
    assert shipped is not None, "dialogs/examples/ changed: run .venv/bin/python -m bot.dialogs.ship"
    given = [shipped.probability(text) for text in probe]
    worst = max(abs(g - float(p)) for g, p in zip(given, expected, strict=True))
    assert worst <= 1e-5, "the shipped scorer is not what training gives now: run .venv/bin/python -m bot.dialogs.ship"
    sides = [(g >= net.threshold) == (float(p) >= net.threshold) for g, p in zip(given, expected, strict=True)]
    assert all(sides)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache directory and no scorers in memory; the shared scorers come back afterwards."""
    saved = dict(learned._MODELS)
    learned._MODELS.clear()
    monkeypatch.setattr(learned, "CACHE_DIR", tmp_path / "cache")
    yield tmp_path / "cache"
    learned._MODELS.clear()
    learned._MODELS.update(saved)


def small_net() -> LearnedNet:
    return LearnedNet.of(RISK, BENIGN, threshold=0.5, signal="risk_words", min_words=1)


def no_training(*_args: object) -> dict[str, object]:
    raise AssertionError("trained although the cache holds the scorer")


def test_training_runs_in_a_child_and_a_restart_loads_the_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    net = small_net()
    assert not net.ready
    net.warm_up()
    assert net.ready
    [stored] = cache.glob("learned-*.json")
    assert net.key in stored.name
    assert not list(cache.glob(".learned-*"))  # the temporary file was renamed, not left behind
    first = net.probability("har lagt en plan for hvordan")
    # a restart: nothing in memory, and training would fail the test
    learned._MODELS.clear()
    monkeypatch.setattr(learned, "_train", no_training)
    assert not net.ready
    assert net.probability("har lagt en plan for hvordan") == first
    assert net.ready


def test_other_examples_are_another_cache_entry(cache: Path) -> None:
    small_net().warm_up()
    LearnedNet.of((*RISK, "jeg vil ikke være her lenger"), BENIGN, 0.5, "risk_words", 1).warm_up()
    assert len(list(cache.glob("learned-*.json"))) == 2


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": 1}', b"[1, 2]", b'{"format": 999, "key": "x"}'])
def test_a_corrupt_cache_trains_again_and_is_replaced(cache: Path, content: bytes) -> None:
    net = small_net()
    path = learned.cache_path(net.key)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    net.warm_up()
    assert net.ready
    assert json.loads(path.read_bytes())["key"] == net.key
    assert 0.0 <= net.probability("vil ikke våkne i morgen") <= 1.0


def test_a_cache_for_other_examples_under_this_name_trains_again(cache: Path) -> None:
    net = small_net()
    other = LearnedNet.of(RISK[:3], BENIGN[:3], 0.5, "risk_words", 1)
    other.warm_up()
    learned.cache_path(other.key).rename(learned.cache_path(net.key))
    net.warm_up()
    assert json.loads(learned.cache_path(net.key).read_bytes())["key"] == net.key


def test_an_unwritable_cache_location_only_means_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    saved = dict(learned._MODELS)
    learned._MODELS.clear()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(learned, "CACHE_DIR", blocker / "cache")  # mkdir fails, even as root
    try:
        net = small_net()
        net.warm_up()
        assert net.ready
        assert 0.0 <= net.probability("alle hadde hatt det bedre uten meg") <= 1.0
    finally:
        learned._MODELS.clear()
        learned._MODELS.update(saved)


def test_probability_before_warm_up_trains_on_first_use(cache: Path) -> None:
    net = small_net()
    assert not net.ready
    assert net.probability("har lagt en plan for hvordan jeg skal gjøre det") > net.probability(
        "har lagt en plan for ferien vår i sommer"
    )
    assert net.ready


def test_a_failing_child_is_an_error_not_a_silent_zero(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")  # a child that exits 1 without a word
    net = small_net()
    with pytest.raises(learned.TrainingFailed, match="exit 1"):
        net.warm_up()
    assert not net.ready
    assert not cache.exists() or not list(cache.glob("learned-*.json"))


SCRIPT = """
import sys
from pathlib import Path
from bot.dialogs import learned
learned.CACHE_DIR = Path(sys.argv[1])
learned.SHIPPED_DIR = Path(sys.argv[1]) / "nothing-shipped"  # so the cold start trains, in its child
{imports}
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs.load import load_dialogs
net = load_dialogs(DEFAULT_DIALOGS_DIR).escalation.learned
net.warm_up()
p = net.probability("jeg har tenkt mye på å ta en slutt på alt sammen")
import json
print(json.dumps([p, sorted(m for m in ("sklearn", "scipy", "numpy") if m in sys.modules)]))
"""


def test_the_bot_process_never_imports_scikit_learn(tmp_path: Path) -> None:
    # cold cache (the child trains), warm cache (read from disk), and the same beside all of bot.cli,
    # which imports numpy through matplotlib for the charts, not through the learned net
    runs = [
        ("", ("sklearn", "scipy", "numpy")),
        ("", ("sklearn", "scipy", "numpy")),
        ("import bot.cli", ("sklearn", "scipy")),
    ]
    for imports, absent in runs:
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT.format(imports=imports), str(tmp_path)],
            capture_output=True,
            text=True,
            check=True,
        )
        probability, loaded = json.loads(done.stdout)
        assert 0.0 <= probability <= 1.0
        assert not set(absent) & set(loaded)
    assert len(list(tmp_path.glob("learned-*.json"))) == 1


def test_a_cache_made_with_another_normalisation_trains_again(cache: Path) -> None:
    net = small_net()
    net.warm_up()
    path = learned.cache_path(net.key)
    data = json.loads(path.read_bytes())
    assert data["probe"]  # normalised examples, checked on every load
    data["probe"][0][1] = "as an older fold_word had it"
    path.write_text(json.dumps(data), encoding="utf-8")
    learned._MODELS.clear()
    net.warm_up()
    assert json.loads(path.read_bytes())["probe"][0][1] == learned._normal(RISK[0])


def test_the_cache_goes_where_systemd_or_xdg_say(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(learned, "CACHE_DIR", None)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CACHE_DIRECTORY", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert learned.cache_dir() == tmp_path / "home" / ".cache" / "guidebot"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert learned.cache_dir() == tmp_path / "xdg" / "guidebot"
    # the unit in docs/deploy sets CacheDirectory=guidebot, and systemd passes it on
    monkeypatch.setenv("CACHE_DIRECTORY", "/var/cache/guidebot")
    assert learned.cache_dir() == Path("/var/cache/guidebot")


def test_a_scorer_cached_by_the_example_texts_is_taken_over_without_training(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # what an older guidebot left: the scorer under the texts' key, its probes by index
    old = small_net()
    old.warm_up()
    path = learned.cache_path(old.key)
    data = json.loads(path.read_bytes())
    data["probe"] = [[i, learned._normal((*RISK, *BENIGN)[i])] for i in range(0, len(RISK) + len(BENIGN), 2)]
    path.write_text(json.dumps(data), encoding="utf-8")
    learned._MODELS.clear()
    monkeypatch.setattr(learned, "_train", no_training)
    files = [("risk", "\n".join(RISK).encode()), ("benign", "\n".join(BENIGN).encode())]
    net = LearnedNet.from_files(files, learned.Examples(RISK, BENIGN), 0.5, "risk_words", 1)
    assert net.key != old.key
    net.warm_up()
    assert net.ready
    taken = json.loads(learned.cache_path(net.key).read_bytes())
    assert taken["key"] == net.key and taken["probe"][1] == [RISK[2], learned._normal(RISK[2])]
    learned._MODELS.clear()
    lazy = LearnedNet.from_files(files, learned.Examples(read=lambda: pytest.fail("parsed")), 0.5, "risk_words", 1)
    assert lazy.probability("har lagt en plan for hvordan") == net.probability("har lagt en plan for hvordan")


# -- the scorer shipped for guidebot's own examples -----------------------------------------


def test_only_the_scorer_for_the_shipped_examples_is_shipped() -> None:
    net = load_dialogs(DEFAULT_DIALOGS_DIR, trust=True).escalation.learned
    assert [p.name for p in learned.SHIPPED_DIR.glob("learned-*")] == [learned.shipped_path(net.key).name], (
        "dialogs/examples/ changed: run .venv/bin/python -m bot.dialogs.ship"
    )


def test_a_first_start_reads_the_shipped_scorer_and_trains_nothing(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a new machine (an empty cache) the shipped examples' scorer is read, not trained: a first
    start used to wait several seconds for the child to fit it."""
    monkeypatch.setattr(learned, "_train", no_training)
    net = load_dialogs(DEFAULT_DIALOGS_DIR, trust=True).escalation.learned
    assert not net.ready
    net.warm_up()
    assert net.ready
    assert not cache.exists() or not list(cache.glob("learned-*"))  # read where it lies, not copied
    assert net.probability("har tenkt at alle hadde hatt det bedre uten meg") > net.threshold
    assert net.probability("har tenkt å gå en lang tur i skogen i morgen") < net.threshold


@pytest.mark.parametrize(
    "content",
    [b"not gzip", gzip.compress(b'{"key": "another set of examples"}', mtime=0)],
    ids=["not gzip", "another key"],
)
def test_an_unreadable_shipped_scorer_means_training(
    cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, content: bytes
) -> None:
    monkeypatch.setattr(learned, "SHIPPED_DIR", cache.parent / "shipped")
    net = small_net()
    learned.SHIPPED_DIR.mkdir()
    learned.shipped_path(net.key).write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="bot.dialogs.learned"):
        net.warm_up()
    assert net.ready and "unreadable" in caplog.text
    assert json.loads(learned.cache_path(net.key).read_bytes())["key"] == net.key  # trained and cached


def test_ship_writes_the_file_that_is_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`python -m bot.dialogs.ship` writes the same bytes for the same scorer (training is fed the
    shipped data here, as a fresh fit gives it: the equivalence test above holds that), and removes
    what was shipped for older examples."""
    net = load_dialogs(DEFAULT_DIALOGS_DIR, trust=True).escalation.learned
    committed = learned.shipped_path(net.key).read_bytes()
    fitted = json.loads(gzip.decompress(committed))
    monkeypatch.setattr(learned, "_train", lambda *_: {k: v for k, v in fitted.items() if k not in ("key", "probe")})
    monkeypatch.setattr(learned, "SHIPPED_DIR", tmp_path)
    stale = tmp_path / "learned-1-0000.json.gz"
    stale.write_bytes(b"older examples")
    path = ship(DEFAULT_DIALOGS_DIR)
    assert path.read_bytes() == committed
    assert list(tmp_path.iterdir()) == [path]
