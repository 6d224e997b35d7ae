"""Customer-level gold tables for the churn model."""

from prodml import step


@step(
    stage="features",
    inputs=["silver.orders", "silver.order_lines"],
    outputs="gold.customer_daily",
    partition_by="order_date",
    mode="replace_partitions",
)
def customer_daily(ctx, orders, order_lines):
    """Orders, items and revenue per customer and day (cancelled orders excluded)."""
    return ctx.sql(
        """
        SELECT o.customer_id, o.order_date,
               count(DISTINCT o.order_id) AS orders,
               coalesce(sum(l.quantity), 0) AS items,
               coalesce(sum(l.quantity * l.unit_price), 0)::DOUBLE AS revenue
        FROM orders o
        LEFT JOIN order_lines l ON l.order_id = o.order_id
        WHERE o.customer_id IS NOT NULL AND coalesce(o.status, '') <> 'cancelled'
        GROUP BY ALL
        """
    )


@step(
    stage="features",
    inputs=["gold.customer_daily", "silver.customers"],
    outputs="gold.churn_features",
    params=["churn_window_days", "lookback_days"],
)
def churn_features(ctx, customer_daily, customers):
    """Recency, frequency, monetary value and tenure at the cutoff, and the churn label."""
    return ctx.sql(
        """
        WITH bounds AS (
            SELECT max(order_date) - to_days($window::INTEGER) AS cutoff,
                   max(order_date) AS end_date
            FROM customer_daily
        ),
        history AS (
            SELECT d.customer_id,
                   max(d.order_date) AS last_order,
                   sum(d.orders) FILTER (d.order_date > b.cutoff - to_days($lookback::INTEGER))
                       AS frequency,
                   sum(d.revenue) FILTER (d.order_date > b.cutoff - to_days($lookback::INTEGER))
                       AS monetary
            FROM customer_daily d, bounds b
            WHERE d.order_date <= b.cutoff
            GROUP BY d.customer_id
        ),
        future AS (
            SELECT DISTINCT d.customer_id
            FROM customer_daily d, bounds b
            WHERE d.order_date > b.cutoff
        )
        SELECT h.customer_id,
               b.cutoff AS cutoff_date,
               date_diff('day', h.last_order, b.cutoff) AS recency_days,
               coalesce(h.frequency, 0) AS frequency,
               coalesce(h.monetary, 0)::DOUBLE AS monetary,
               date_diff('day', c.signup_date, b.cutoff) AS tenure_days,
               c.segment, c.country,
               f.customer_id IS NULL AS churned
        FROM history h
        CROSS JOIN bounds b
        LEFT JOIN customers c USING (customer_id)
        LEFT JOIN future f USING (customer_id)
        ORDER BY h.customer_id
        """,
        window=ctx.params["churn_window_days"],
        lookback=ctx.params["lookback_days"],
    )
