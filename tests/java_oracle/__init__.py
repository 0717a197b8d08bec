"""Apache Avro Java as a test oracle (oracle.py, AvroOracle.java)."""
