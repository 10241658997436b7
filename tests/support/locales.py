"""A dialogs copy with a made-up third locale, for tests of the locale plumbing.

The shipped dialogs have no `nn` folder until the nynorsk texts are written, so tests
make one: a copy of bokmål with its own name and a few texts changed, marked as
"the same on purpose" so that the checker lets the rest stand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.settings import full_forms_dialogs_dir

NN_WELCOME = "Velkomen!"
NN_LOCALE = """name: Norsk (nynorsk)
telegram: [nn]
translated_from: nb
order: 2
same_on_purpose: ["*"]
"""


def dialogs_copy(target: Path) -> Path:
    shutil.copytree(full_forms_dialogs_dir(), target)  # the full forms every week, as the course scripts answer
    return target


def without_nynorsk(root: Path) -> Path:
    shutil.rmtree(root / "locales" / "nn", ignore_errors=True)
    return root


def with_placeholder_nynorsk(root: Path) -> Path:
    """`root/locales/nn/` (in place of any shipped one): bokmål with the welcome in nynorsk."""
    nn = without_nynorsk(root) / "locales" / "nn"
    shutil.copytree(root / "locales" / "nb", nn)
    (nn / "locale.yaml").write_text(NN_LOCALE, encoding="utf-8")
    texts = nn / "texts.yaml"
    source = texts.read_text(encoding="utf-8")
    assert "Velkommen!" in source
    texts.write_text(source.replace("Velkommen!", NN_WELCOME), encoding="utf-8")
    return root
