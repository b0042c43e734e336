"""Counting what an import did, the progress bar on a terminal, and the closing summary."""

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class TypeCount:
    imported: int = 0
    present: int = 0
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, other: "TypeCount") -> None:
        self.imported += other.imported
        self.present += other.present
        self.skipped.update(other.skipped)


@dataclass
class Summary:
    """Per resource type: imported, already present, skipped (by reason); and failed files."""

    counts: dict[str, TypeCount] = field(default_factory=dict)
    bundles: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)
    directory: Counter[str] = field(default_factory=Counter)  # names read, not stored

    def type(self, resource_type: str) -> TypeCount:
        return self.counts.setdefault(resource_type, TypeCount())

    def merge(self, counts: dict[str, TypeCount]) -> None:
        for resource_type, count in counts.items():
            self.type(resource_type).add(count)
        self.bundles += 1

    @property
    def resources(self) -> int:
        return sum(c.imported + c.present + c.skipped.total() for c in self.counts.values())

    def lines(self) -> list[str]:
        out = [f"FHIR import: {self.bundles} bundle(s) imported, {len(self.failures)} failed"]
        for resource_type in sorted(self.counts):
            count = self.counts[resource_type]
            parts = []
            if count.imported or count.present or not count.skipped:
                parts = [f"{count.imported} imported", f"{count.present} already present"]
            parts += [f"{n} skipped ({reason})" for reason, n in sorted(count.skipped.items())]
            out.append(f"  {resource_type}: " + ", ".join(parts))
        if self.directory:
            read = ", ".join(f"{n} {kind}" for kind, n in sorted(self.directory.items()))
            out.append(f"  read for clinician and place names, not stored as rows: {read}")
        out += [f"  FAILED {name}: {reason}" for name, reason in self.failures]
        return out


class Progress:
    """A one-line bar on stderr, drawn only when stderr is a terminal."""

    WIDTH = 30

    def __init__(self, total_files: int, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.total, self.done, self.resources = total_files, 0, 0
        self.started = time.monotonic()

    def file_done(self, resources: int, name: str) -> None:
        self.done += 1
        self.resources += resources
        if not self.enabled:
            return
        filled = self.WIDTH * self.done // max(self.total, 1)
        rate = self.resources / max(time.monotonic() - self.started, 1e-6)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        line = f"\r[{bar}] {self.done}/{self.total} files, {rate:,.0f} resources/s  {name[:40]}"
        self.stream.write(line.ljust(100))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()
