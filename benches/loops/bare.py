"""The bare confluent-kafka loop: consume 10,000, produce each record unchanged, flush, commit.
It converts nothing, so it is what Kafka and the client cost (the floor for any bridge)."""

from __future__ import annotations

from _loop import arguments, run

if __name__ == "__main__":
    run(arguments(), lambda value: value)
