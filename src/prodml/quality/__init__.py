"""Data quality: expectations evaluated on every write and on demand, with actions."""
