"""Benchmarks for KT1 (issue 3's performance targets). See bench/README.md; `make bench` runs them."""
