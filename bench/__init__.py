"""Benchmarks: ``make bench`` prints each figure beside the baseline measured in the same run."""
