"""The learned codecs' training logs: one CSV row per dataclass record, floats to 6 significant
digits (enough to plot and compare, short enough to read and to ship)."""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path


def write_csv(path: Path, rows: list) -> None:
    """``rows``: dataclass instances of one type; their fields are the columns."""
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(rows[0])))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in asdict(row).items()})
