"""thinklogit."""
