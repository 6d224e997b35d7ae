"""Model operations: experiment tracking, the registry with aliases, the gate, promotion."""
