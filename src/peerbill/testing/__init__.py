"""Made-up bundles for tests, benchmarks and the demo: valid, realistic, deterministic for a seed."""
