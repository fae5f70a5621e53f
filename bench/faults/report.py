"""The table of a run, per fault and in total, as Markdown and JSON; and whether it passed."""

from __future__ import annotations

from typing import Any

from .ledger import Ledger

COLUMNS = (
    ("fault", "fault"),
    ("back_s", "back after (s)"),
    ("sent", "sent"),
    ("received", "received"),
    ("lost", "lost"),
    ("doubled", "doubled"),
    ("not_accepted", "never accepted"),
    ("undecryptable", "undecryptable after 60 s"),
    ("starts", "starts"),
    ("starts_retried", "start retries"),
    ("starts_failed", "starts failed"),
    ("visitor_s", "visitor sees traffic again (s)"),
    ("counsellor_s", "counsellor sees traffic again (s)"),
)
# A run fails when any of these is not zero (in total) or any impossible case state is left.
FAILING = ("lost", "doubled", "not_accepted", "undecryptable", "starts_failed")


def rows(ledger: Ledger) -> list[dict[str, Any]]:
    out = []
    for w in ledger.windows:
        row: dict[str, Any] = {"fault": w.name, "back_s": _round(w.back_after)}
        row.update(ledger.counts(w.name))
        row.update(
            undecryptable=ledger.undecryptable.get(w.name, 0),
            starts=w.starts,
            starts_retried=w.starts_retried,
            starts_failed=w.starts_failed,
            visitor_s=_round(w.seen_again.get("counsellor")),  # the visitor sees what the counsellor sent
            counsellor_s=_round(w.seen_again.get("visitor")),
        )
        out.append(row)
    total: dict[str, Any] = {"fault": "total", "back_s": None, **ledger.counts()}
    for key in ("undecryptable", "starts", "starts_retried", "starts_failed"):
        total[key] = sum(r[key] for r in out)
    total.update(visitor_s=None, counsellor_s=None)
    return [*out, total]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def as_json(ledger: Ledger, meta: dict[str, Any]) -> dict[str, Any]:
    table = rows(ledger)
    return {
        **meta,
        "faults": table,
        "impossible_states": ledger.impossible,
        "to_device_never_delivered": ledger.held_to_device,
        "passed": passed(table, ledger),
    }


def passed(table: list[dict[str, Any]], ledger: Ledger) -> bool:
    total = table[-1]
    return all(total[k] == 0 for k in FAILING) and not any(ledger.impossible.values())


def markdown(ledger: Ledger) -> str:
    table = rows(ledger)
    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for row in table:
        cells = ["—" if row[key] is None else str(row[key]) for key, _ in COLUMNS]
        if row["fault"] == "total":
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    states = ", ".join(f"{name}: {n}" for name, n in ledger.impossible.items()) or "not counted"
    lines += ["", f"Impossible case states at the end: {states}."]
    lines += [f"To-device messages Synapse held for a syncing client and never delivered: {ledger.held_to_device}."]
    return "\n".join(lines)
