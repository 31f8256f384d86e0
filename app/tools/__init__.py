"""Tools for the people who run and measure the API: the benchmark and synthetic data. Never imported by serving."""
