"""Pipelines in code: the step decorator, the DAG, the planner and the runner."""
