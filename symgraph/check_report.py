"""What `symgraph.check` found: a verdict per gradient, and the report that prints them as a table."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class VariableCheck:
    """The verdict for one gradient d_<name>."""

    name: str
    method: str = "numeric"  # "symbolic" when SymPy proved equality, else "numeric" (or "finite differences")
    symbolic: str = "off"  # equal, undecided, timeout, error, off, too large, no fork, no time
    points: int = 0  # random points the numeric comparison used
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    numeric_ok: bool = True
    fd_points: int = 0
    fd_max_abs_error: float = 0.0
    fd_max_rel_error: float = 0.0
    fd_ok: bool = True
    worst_point: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Pass when the numeric comparison and the finite differences both agree."""
        return self.numeric_ok and self.fd_ok and (self.points > 0 or self.fd_points > 0)


@dataclass
class Report:
    """What `check` found, per gradient; `ok` is True when every gradient passed."""

    formula: str
    variables: tuple[str, ...]
    checks: list[VariableCheck]
    seed: int
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        shown = self.formula.strip().replace("\n", "; ")
        shown = shown if len(shown) <= 100 else shown[:97] + "..."
        lines = [f"check of {shown}  (seed {self.seed})"]
        head = ["gradient", "method", "symbolic", "points", "max abs err", "max rel err", "fd points", "fd max rel err"]
        rows: list[tuple[str, ...]] = [(*head, "result")]
        for c in self.checks:
            rows.append(
                (
                    "d_" + c.name,
                    c.method,
                    c.symbolic,
                    str(c.points),
                    f"{c.max_abs_error:.2g}",
                    f"{c.max_rel_error:.2g}",
                    str(c.fd_points),
                    f"{c.fd_max_rel_error:.2g}",
                    "pass" if c.ok else "FAIL",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        for c in self.checks:
            if not c.ok and c.worst_point:
                at = ", ".join(f"{k}={v!r}" for k, v in c.worst_point.items())
                lines.append(f"  d_{c.name}: worst disagreement at {at}")
        lines += ["  note: " + n for n in self.notes]
        if self.ok:
            lines.append("all gradients agree")
        elif any(c.numeric_ok and c.fd_ok for c in self.checks if not c.ok):
            lines.append("NOT CHECKED: some gradient was compared at no point (see the notes)")
        else:
            lines.append("MISMATCH: some gradient disagrees")
        return "\n".join(lines)
