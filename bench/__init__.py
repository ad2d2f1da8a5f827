"""Benchmarks: ``python -m bench`` (what ``make bench`` runs) measures every stage next to its baseline."""
