"""taco."""
