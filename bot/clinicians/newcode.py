"""/newcode PROGRAM [LABEL]: a single-use access code, ready to read aloud."""

from __future__ import annotations

import re

from bot.clinicians.desk import Desk
from bot.clinicians.facts import program_title
from bot.engine.codes import issue_code
from bot.links import deep_link

# Labels name cases; keep them short and plain so nobody puts a name in one.
LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,23}")


def new_code(desk: Desk, args: str) -> None:
    words = args.split()
    programs = desk.turn.dialogs.programs
    known = ", ".join(sorted(programs))
    if not words:
        desk.reply("clinician.newcode.usage", programs=known)
        return
    program = words[0].lower()
    if program not in programs:
        desk.reply("clinician.newcode.unknown_program", program=words[0], programs=known)
        return
    label = " ".join(words[1:]) or None
    if label is not None and not LABEL.fullmatch(label):
        desk.reply("clinician.newcode.bad_label")
        return
    try:
        issued = issue_code(
            desk.session,
            desk.now,
            program=program,
            label=label,
            ttl_days=desk.turn.config.code_ttl_days,
            clinician_id=desk.clinician.id,
            actor=desk.actor,
            pepper_key=desk.turn.config.secret_key,
        )
    except ValueError:
        desk.reply("clinician.newcode.label_taken", label=label)
        return
    desk.reply(
        "clinician.newcode.made",
        code=issued.code,
        label=issued.label,
        program=program_title(desk, program),
        expires=desk.format_time(issued.expires_at),
        link=deep_link(desk.turn.config, issued.code),
        spelled=" – ".join(" ".join(group) for group in issued.code.split("-")),
    )
