"""Demo and benchmark data: seeding and the demo users. Used by make demo, the benchmarks and the tests only."""
