"""`/metrics`: the service's counters in Prometheus's text format, for operators only."""
