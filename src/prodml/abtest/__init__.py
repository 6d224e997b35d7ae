"""A/B testing: sticky assignment, exposure and outcome analysis, decisions."""
