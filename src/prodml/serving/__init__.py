"""Real-time serving: product endpoints over HTTP, champion/challenger, shadow, inference log."""
