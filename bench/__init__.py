"""Benchmarks that compare election recipes against one real ZooKeeper (not shipped with the service)."""
