"""A dialogs folder that passed the full check is not checked again at the next start (verdict.py);
any changed byte checks it in full again, and a broken file is still refused with file and line."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.config import DEFAULT_DIALOGS_DIR
from bot.dialogs import check, learned, load, verdict
from bot.dialogs.load import DialogsInvalid, load_dialogs
from bot.dialogs.store import DialogStore

runner = CliRunner()


@pytest.fixture
def records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "verdicts"
    monkeypatch.setattr(verdict, "VERDICT_DIR", folder)
    return folder


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each full check run, by the folder checked."""
    calls: list[str] = []
    real = check.check_semantics

    def counted(reader: Any, dialogs: Any, *args: Any) -> None:
        calls.append(dialogs.source)
        real(reader, dialogs, *args)

    monkeypatch.setattr(load, "check_semantics", counted)
    yield calls


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "dialogs"
    shutil.copytree(DEFAULT_DIALOGS_DIR, target)
    return target


def test_a_second_load_of_the_same_files_skips_the_check(root: Path, records: Path, checks: list[str]) -> None:
    first = DialogStore(root).current.dialogs
    assert checks == [str(root)]
    assert len(list(records.glob("dialogs-ok-*.json"))) == 1
    second = DialogStore(root).current.dialogs
    assert checks == [str(root)]  # not called again
    assert second.texts == first.texts and second.flows == first.flows and second.locales == first.locales
    assert second.escalation.learned == first.escalation.learned  # same key, threshold, signal


def test_a_copy_elsewhere_with_the_same_bytes_is_known(
    root: Path, tmp_path: Path, records: Path, checks: list[str]
) -> None:
    DialogStore(root)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(root, elsewhere)
    DialogStore(elsewhere)
    assert checks == [str(root)]


def test_dialogs_check_always_runs_the_full_check_and_records_a_pass(
    root: Path, records: Path, checks: list[str]
) -> None:
    for _ in range(2):
        result = runner.invoke(cli, ["dialogs", "check", str(root)])
        assert result.exit_code == 0, result.output
    assert checks == [str(root), str(root)]
    DialogStore(root)  # the start after a passed check skips it
    assert len(checks) == 2


def _break_template(root: Path) -> int:
    texts = root / "locales/nb/texts.yaml"
    content = texts.read_text(encoding="utf-8")
    assert "{{ min }}" in content
    texts.write_text(content.replace("{{ min }}", "{{ min }", 1), encoding="utf-8")
    return next(n for n, line in enumerate(texts.read_text(encoding="utf-8").splitlines(), 1) if "{{ min }" in line)


def test_any_changed_byte_checks_again_and_a_broken_file_is_refused_with_file_and_line(
    root: Path, records: Path, checks: list[str]
) -> None:
    store = DialogStore(root)
    before = store.current
    # one byte added to a file the loader itself never looks at closely: still a full check
    (root / "README.txt").write_bytes(b"notes\n")
    assert store.reload() is None
    assert len(checks) == 2
    line = _break_template(root)
    problem = store.reload()
    assert problem is not None and store.current is not before  # the README reload was taken
    assert len(checks) == 3
    [found] = [p for p in problem.problems if "template error" in p.message]
    assert found.file.endswith("locales/nb/texts.yaml") and found.line == line
    with pytest.raises(DialogsInvalid, match=r"texts\.yaml:\d+: text '.*': template error"):
        DialogStore(root)  # a new start refuses it too: a failed check is never recorded
    assert len(checks) == 4


def test_a_corrupt_record_is_ignored(root: Path, records: Path, checks: list[str]) -> None:
    DialogStore(root)
    [record] = records.glob("dialogs-ok-*.json")
    for content in (b"", b"{not json", b"[]", b'{"format": 1, "digest": "another"}', b'{"format": 99}'):
        record.write_bytes(content)
        DialogStore(root)
    assert len(checks) == 6  # each corrupt record meant a full check, which wrote a good one again
    DialogStore(root)
    assert len(checks) == 6


def test_a_record_written_for_other_code_does_not_count(
    root: Path, records: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    DialogStore(root)
    monkeypatch.setattr(verdict, "code_digest", lambda: "other code")
    DialogStore(root)
    assert len(checks) == 2


def test_an_unwritable_record_folder_only_means_checking_each_time(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checks: list[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setattr(verdict, "VERDICT_DIR", blocker / "verdicts")
    DialogStore(root)
    DialogStore(root)
    assert len(checks) == 2


def test_only_the_newest_records_are_kept(root: Path, records: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verdict, "KEEP", 2)
    notes = root / "notes.txt"
    for n in range(4):
        notes.write_text(f"version {n}\n")
        DialogStore(root)
    assert len(list(records.glob("dialogs-ok-*.json"))) == 2


def test_a_known_folder_reads_no_example_file_until_training_needs_it(
    root: Path, records: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_dialogs(root, trust=True, remember=True).escalation.learned
    assert first.examples.loaded  # checked in full: the examples were read, and their problems looked for
    parsed: list[str] = []
    real = load._read_examples

    def counted(raw: str) -> Any:
        parsed.append(raw[:20])
        return real(raw)

    monkeypatch.setattr(load, "_read_examples", counted)
    monkeypatch.setattr(load, "_EXAMPLES", {})
    again = load_dialogs(root, trust=True, remember=True).escalation.learned
    assert again.key == first.key
    assert not again.examples.loaded and not parsed
    assert again.risk == first.risk and again.benign == first.benign  # read when asked for
    assert parsed


def test_the_learned_net_loads_from_its_cache_without_the_examples(
    root: Path, records: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = dict(learned._MODELS)
    monkeypatch.setattr(learned, "CACHE_DIR", tmp_path / "learned")
    try:
        learned._MODELS.clear()
        net = DialogStore(root).current.dialogs.escalation.learned
        net.warm_up()  # trains in a child process and stores the scorer
        score = net.probability("jeg har tenkt mye på å ta en slutt på alt sammen")
        learned._MODELS.clear()  # a restart
        monkeypatch.setattr(learned, "_train", lambda *_: pytest.fail("trained although the cache holds it"))
        known = DialogStore(root).current.dialogs.escalation.learned
        known.warm_up()
        assert known.ready and not known.examples.loaded
        assert known.probability("jeg har tenkt mye på å ta en slutt på alt sammen") == score
    finally:
        learned._MODELS.clear()
        learned._MODELS.update(saved)


def test_a_file_added_while_a_known_folder_loads_means_the_full_check(
    root: Path, records: Path, checks: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    DialogStore(root)
    real = verdict.snapshot

    def then_a_file_comes(folder: Path) -> verdict.Snapshot | None:
        taken = real(folder)
        (folder / "flows" / "extra.yaml").write_text("steps:\n  hello:\n    say: intake.about\n    next: nowhere\n")
        return taken

    monkeypatch.setattr(verdict, "snapshot", then_a_file_comes)
    with pytest.raises(DialogsInvalid, match=r"extra\.yaml:3: step 'hello': next 'nowhere' does not exist"):
        DialogStore(root)
    assert len(checks) == 2
