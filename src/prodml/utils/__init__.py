"""Small helpers shared by every layer (hashing, clocks)."""
