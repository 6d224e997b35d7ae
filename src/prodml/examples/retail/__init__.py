"""The retail example: a small shop with customers, orders and order lines."""
