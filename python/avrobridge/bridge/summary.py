"""What `avrobridge run --until-end` reports when it is done."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Summary:
    records_in: int
    records_out: int
    dead_lettered: int
    filtered: int
    tombstones: int
    elapsed_s: float
    per_writer_schema: dict[str, int] = field(default_factory=dict)
    #: Process CPU time (user + sys, every thread) from the first record to the end.
    cpu_s: float = 0.0
    #: Values per source schema id and the sink registry's id they were produced with:
    #: [{"source_id", "sink_id", "records"}].
    ids_translated: list[dict[str, int | str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.records_in / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def lines(self) -> list[str]:
        cpu = f"{self.cpu_s:,.2f} s"
        if self.records_in:
            cpu += f" ({self.cpu_s / self.records_in * 1e6:.2f} µs/record)"
        out = [
            f"records in:    {self.records_in:,}",
            f"records out:   {self.records_out:,}",
            f"dead-lettered: {self.dead_lettered:,}",
            f"filtered:      {self.filtered:,}",
            f"tombstones:    {self.tombstones:,}",
            f"elapsed:       {self.elapsed_s:,.2f} s ({self.rate:,.0f} records/s)",
            f"cpu:           {cpu}",
        ]
        for writer, n in sorted(self.per_writer_schema.items()):
            out.append(f"  writer schema {writer}: {n:,}")
        if self.ids_translated:
            out.append("ids translated (source -> sink):")
            for t in self.ids_translated:
                out.append(f"  {t['source_id']} -> {t['sink_id']}: {t['records']:,}")
        return out
