"""The workload scenarios, grouped by the block they exercise."""
