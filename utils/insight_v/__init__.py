"""insight_v."""
