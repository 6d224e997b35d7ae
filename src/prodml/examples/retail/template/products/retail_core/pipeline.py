"""Landing → bronze (as received + ingestion metadata) → silver (typed, deduplicated)."""

from prodml import step

CUSTOMER_COLUMNS = [
    "customer_id",
    "name",
    "email",
    "country",
    "segment",
    "signup_date",
    "updated_at",
]
ORDER_COLUMNS = [
    "order_id",
    "customer_id",
    "order_date",
    "order_ts",
    "channel",
    "status",
    "currency",
]
LINE_COLUMNS = ["order_id", "line_no", "order_date", "product_id", "quantity", "unit_price"]
STATUSES = "('placed', 'shipped', 'delivered', 'returned', 'cancelled')"


def as_received(ctx, files, fmt, columns):
    """Every column as text, plus where and when it arrived."""
    rows = ctx.read_files(files, format=fmt, columns=columns)
    return rows.query(
        "received",
        f"""
        SELECT * EXCLUDE (_source_file),
               regexp_extract(_source_file, '([^/]+/batch_date=[^/]+/[^/]+)$', 1) AS _source_file,
               regexp_extract(_source_file, 'batch_date=([0-9-]+)', 1) AS batch_date,
               TIMESTAMPTZ '{ctx.now.isoformat()}' AS _ingested_at,
               '{ctx.run_id}' AS _batch_id
        FROM received
        """,
    )


@step(
    stage="ingress",
    inputs=["landing:customers"],
    outputs="bronze.customers",
    partition_by="batch_date",
    mode="replace_partitions",
)
def ingest_customers(ctx, customers):
    """Customer records (JSON lines) as received."""
    return as_received(ctx, customers, "json", CUSTOMER_COLUMNS)


@step(
    stage="ingress",
    inputs=["landing:orders"],
    outputs="bronze.orders",
    partition_by="batch_date",
    mode="replace_partitions",
)
def ingest_orders(ctx, orders):
    """Orders (CSV) as received."""
    return as_received(ctx, orders, "csv", ORDER_COLUMNS)


@step(
    stage="ingress",
    inputs=["landing:order_lines"],
    outputs="bronze.order_lines",
    partition_by="batch_date",
    mode="replace_partitions",
)
def ingest_order_lines(ctx, order_lines):
    """Order lines (CSV) as received."""
    return as_received(ctx, order_lines, "csv", LINE_COLUMNS)


@step(
    stage="ingress",
    inputs=["bronze.customers"],
    outputs="silver.customers",
    partition_by="batch_date",
    mode="merge",
    keys=["customer_id"],
)
def clean_customers(ctx, customers):
    """Typed customers, newest update first: the expectations of silver.customers (product.yaml)
    quarantine rows without an id and drop the older updates of a customer."""
    return ctx.sql(
        """
        SELECT nullif(trim(customer_id), '') AS customer_id,
               nullif(trim(name), '') AS name,
               CASE WHEN email LIKE '%_@_%' THEN lower(trim(email)) END AS email,
               CASE WHEN regexp_full_match(country, '[A-Z]{2}') AND country <> 'XX'
                    THEN country END AS country,
               CASE WHEN segment IN ('consumer', 'smb', 'enterprise') THEN segment END AS segment,
               try_cast(signup_date AS DATE) AS signup_date,
               try_cast(updated_at AS TIMESTAMPTZ) AS updated_at,
               batch_date AS _batch_date
        FROM customers
        ORDER BY customer_id, try_cast(updated_at AS TIMESTAMPTZ) DESC NULLS LAST, batch_date DESC
        """
    )


@step(
    stage="ingress",
    inputs=["bronze.orders"],
    outputs="silver.orders",
    partition_by="batch_date",
    output_partition_by="order_date",
    mode="merge",
    keys=["order_id"],
)
def clean_orders(ctx, orders):
    """Typed orders, newest batch first: the expectations of silver.orders quarantine rows
    without an id or a readable date and drop the older copies of a re-sent order."""
    return ctx.sql(
        f"""
        SELECT nullif(trim(order_id), '') AS order_id,
               nullif(trim(customer_id), '') AS customer_id,
               try_cast(order_date AS DATE) AS order_date,
               try_cast(order_ts AS TIMESTAMPTZ) AS order_ts,
               nullif(lower(trim(channel)), '') AS channel,
               CASE WHEN status IN {STATUSES} THEN status END AS status,
               currency,
               batch_date AS _batch_date
        FROM orders
        ORDER BY order_id, batch_date DESC
        """
    )


@step(
    stage="ingress",
    inputs=["bronze.order_lines"],
    outputs="silver.order_lines",
    partition_by="batch_date",
    output_partition_by="order_date",
    mode="merge",
    keys=["order_id", "line_no"],
)
def clean_order_lines(ctx, order_lines):
    """Typed order lines, newest batch first; non-positive quantities and unparseable prices
    become NULL. The expectations of silver.order_lines quarantine lines without an order, a
    line number or a readable date, and drop older copies of a line."""
    return ctx.sql(
        """
        SELECT nullif(trim(order_id), '') AS order_id,
               try_cast(line_no AS INTEGER) AS line_no,
               try_cast(order_date AS DATE) AS order_date,
               product_id,
               CASE WHEN try_cast(quantity AS INTEGER) > 0 THEN try_cast(quantity AS INTEGER) END
                   AS quantity,
               CASE WHEN try_cast(unit_price AS DOUBLE) >= 0 THEN try_cast(unit_price AS DOUBLE) END
                   AS unit_price,
               batch_date AS _batch_date
        FROM order_lines
        ORDER BY order_id, line_no, batch_date DESC
        """
    )


# -- shared customer features (one definition; churn and demand both train on them) ---------


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
    references=["silver.customers"],
    outputs="features.customer_features",
    partition_by="order_date",
    mode="replace_partitions",
    params=["feature_lookback_days"],
)
def customer_features(ctx, customer_daily, customers):
    """Each recently active customer's features as of the end of each day.

    Only the days being processed are computed (new days, or days late rows changed); the
    look-back reads the whole history. Customers are reference data: an update to a customer
    shapes the days computed from now on, not the snapshots already taken. ``as_of`` (the end
    of the day, UTC) is the event time a point-in-time lookup compares with.
    """
    ctx.table("gold.customer_daily", alias="history")
    return ctx.sql(
        """
        WITH days AS (SELECT DISTINCT order_date FROM customer_daily)
        SELECT h.customer_id,
               d.order_date,
               timezone('UTC', d.order_date + INTERVAL 1 DAY) AS as_of,
               date_diff('day', max(h.order_date), d.order_date)::DOUBLE AS recency_days,
               sum(h.orders)::DOUBLE AS frequency,
               sum(h.revenue)::DOUBLE AS monetary,
               sum(h.items)::DOUBLE AS items,
               coalesce(date_diff('day', any_value(c.signup_date), d.order_date), 0)::DOUBLE
                   AS tenure_days,
               coalesce(any_value(c.segment), 'unknown') AS segment,
               coalesce(any_value(c.country), 'unknown') AS country
        FROM days d
        JOIN history h
          ON h.order_date <= d.order_date
         AND h.order_date > d.order_date - to_days($lookback::INTEGER)
        LEFT JOIN customers c USING (customer_id)
        GROUP BY h.customer_id, d.order_date
        """,
        lookback=ctx.params["feature_lookback_days"],
    )
