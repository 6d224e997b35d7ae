"""Delta Lake tables: atomic writes in four modes, schema checks, time travel."""
