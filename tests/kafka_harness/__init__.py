"""Real-Kafka test harness: a single-node broker (broker.py) and its pytest plugin (plugin.py)."""
