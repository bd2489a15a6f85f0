"""Prometheus: the metrics port's adapter and the scrape (one process or the workers of
one `serve` added up)."""
