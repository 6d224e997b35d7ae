"""Compute engines behind one interface; DuckDB + Arrow in process is the default."""
