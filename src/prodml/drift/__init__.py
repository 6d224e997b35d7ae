"""Drift monitoring: statistics, reports and alerts."""
