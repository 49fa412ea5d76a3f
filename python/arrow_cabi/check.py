"""Conformance checks of a producer of the Arrow PyCapsule protocol.

``check(obj)`` takes the stream of ``obj.__arrow_c_stream__()`` (or, without one, the array and
schema of ``obj.__arrow_c_array__()``; an object with only the device methods, its
``__arrow_c_device_stream__()`` or ``__arrow_c_device_array__()``), checks it with arrow-cabi's
conformance checks (the same as ``arrow-cabi check``: the schema, every batch at full validation,
the release and stream protocols, the device fields, each finding tied to a rule of the Arrow C
interfaces) and returns a :class:`Report`. ``device=True`` checks the device methods of an object
that has both kinds. The checks run in this process; ``python -m arrow_cabi check module:attr`` runs
them in a forked child, so that a producer that crashes is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._arrow_cabi import _check

__all__ = ["Finding", "Report", "check"]


@dataclass(frozen=True)
class Finding:
    """One broken rule: its id (``array.utf8``), the checklist section it comes from, the field path
    where it was broken (``batches[0].children[1]``) and what was seen there."""

    rule: str
    section: str
    path: str
    seen: str


@dataclass(frozen=True)
class Report:
    """What ``check`` found: ``kind`` is ``"stream"``, ``"array"``, ``"device_stream"`` or
    ``"device_array"``; ``notes`` say what was not checked (a device's buffers, a stream stopped at
    ``max_batches``) or a convention the spec only recommends, and break no rule; ``batches`` and
    ``rows`` count what was read."""

    kind: str
    findings: tuple[Finding, ...]
    batches: int
    rows: int
    notes: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """Whether no rule was broken."""
        return not self.findings

    def table(self, producer: str | None = None) -> str:
        """The findings as a table (rule, where, what was seen) and a summary line, which starts with
        ``producer: `` when given."""
        rows = [(f.rule, f.path, f.seen) for f in self.findings]
        lines = []
        if rows:
            header = ("rule", "where", "what was seen")
            widths = [max(len(r[i]) for r in [header, *rows]) for i in range(2)]
            for r in [header, *rows]:
                lines.append(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]}".rstrip())
            lines.append("")
        lines.extend(f"note: {note}" for note in self.notes)
        read = f"{self.batches} batches, {self.rows} rows"
        prefix = f"{producer}: " if producer else ""
        if self.clean:
            lines.append(f"{prefix}clean, {read}")
        else:
            broken = len({f.rule for f in self.findings})
            lines.append(f"{prefix}{len(self.findings)} findings ({broken} rules broken), {read}")
        return "\n".join(lines)


def check(obj, *, device: bool | None = None, max_batches: int | None = None) -> Report:
    """Checks what ``obj`` hands over and returns the :class:`Report`. Consumes one export of ``obj``.

    ``device=None`` uses ``__arrow_c_stream__``, else ``__arrow_c_array__``, else (an object with
    only the device methods) ``__arrow_c_device_stream__``, else ``__arrow_c_device_array__``;
    ``device=True`` only the device methods, ``device=False`` only the plain ones. ``max_batches``
    stops a stream after that many batches (a note says so; the end of stream is then not checked).
    Raises TypeError for an object with none of the methods asked for."""
    kind, findings, notes, batches, rows = _check(obj, device, max_batches)
    return Report(kind, tuple(Finding(*f) for f in findings), batches, rows, tuple(notes))
