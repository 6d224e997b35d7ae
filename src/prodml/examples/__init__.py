"""Example data-science products and the synthetic sources they read."""
