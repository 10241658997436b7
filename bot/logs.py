"""What our own log lines say of an exception: its type and where, never its message,
which may quote what a user wrote."""

from __future__ import annotations


def describe(exc: BaseException) -> str:
    """An exception for the log: its type and where it was raised, never its message."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = f" at {frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame is not None else ""
    return f"{type(exc).__name__}{where}"
