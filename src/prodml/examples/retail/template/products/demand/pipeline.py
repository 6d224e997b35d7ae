"""Demand features per product and day (daily demand itself is the SQL step in sql/)."""

from prodml import step


@step(stage="features", inputs=["gold.product_daily_demand"], outputs="gold.demand_features")
def demand_features(ctx, demand):
    """Lags, a 7-day rolling mean and the day of week; the target is next day's units."""
    return ctx.sql(
        """
        SELECT product_id, order_date,
               units,
               lag(units, 1) OVER w AS units_lag_1,
               lag(units, 7) OVER w AS units_lag_7,
               avg(units) OVER (w ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS units_mean_7,
               isodow(order_date) AS day_of_week,
               lead(units, 1) OVER w AS target_next_day_units
        FROM demand
        WINDOW w AS (PARTITION BY product_id ORDER BY order_date)
        ORDER BY product_id, order_date
        """
    )
