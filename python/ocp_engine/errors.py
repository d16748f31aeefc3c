"""The engine's failures as exceptions koku can log and act on.

The kind is the engine's (its ``run_failed`` event, docs/operations.md "Logs"): bad input
(re-running will not help; fixing the input will), infrastructure (PostgreSQL, S3, disk, the
binary itself: a retry may help once it is back), internal (a bug in the engine). Every failure
leaves the month in PostgreSQL as it was: the engine writes it in one transaction.
"""

from typing import Any, Mapping, Optional, Sequence


class EngineError(Exception):
    """A failed run: ``kind``, the engine's ``message``, and where the problem is.

    Attributes:
        kind: ``"input"``, ``"infrastructure"`` or ``"internal"``.
        message: what the engine said, naming the setting, file, column or table.
        exit_code: the process's exit code (2, 3 or 1), or None when it did not run.
        problem: for bad input, what is wrong (``setting``, ``file``, ``column``, ``table``,
            ``no_data``, ``value``).
        place: for bad input, the setting, file, column or table named.
        service: for infrastructure, what failed (``PostgreSQL``, ``object store``, ...).
        run_id: the run's id when it had one.
        event: the engine's ``run_failed`` event as a dict, when there was one.
    """

    kind = "internal"

    def __init__(
        self,
        message: str,
        *,
        exit_code: Optional[int] = None,
        problem: Optional[str] = None,
        place: Sequence[str] = (),
        service: Optional[str] = None,
        run_id: Optional[str] = None,
        event: Optional[Mapping[str, Any]] = None,
    ):
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.problem = problem
        self.place = list(place)
        self.service = service
        self.run_id = run_id
        self.event = dict(event) if event is not None else None

    def __str__(self) -> str:
        return f"ocp-engine {self.kind} error: {self.message}"


class InputError(EngineError):
    """Bad input: a setting, a Parquet file or table, a label text, or no data for the month."""

    kind = "input"


class InfrastructureError(EngineError):
    """PostgreSQL, S3, the disk or the engine binary failed; nothing was written."""

    kind = "infrastructure"


class InternalError(EngineError):
    """The engine broke one of its own rules, or died without saying why: a bug to report."""

    kind = "internal"


_BY_KIND = {cls.kind: cls for cls in (InputError, InfrastructureError, InternalError)}


def from_event(event: Mapping[str, Any]) -> EngineError:
    """The exception for the engine's ``run_failed`` event."""
    cls = _BY_KIND.get(event.get("error_kind"), InternalError)
    return cls(
        str(event.get("message", "")),
        exit_code=event.get("exit_code"),
        problem=event.get("problem"),
        place=event.get("place") or (),
        service=event.get("service"),
        run_id=event.get("run_id"),
        event=event,
    )
