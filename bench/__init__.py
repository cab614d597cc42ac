"""Benchmarks and the stand-ins they (and the integration tests) drive the service with."""
