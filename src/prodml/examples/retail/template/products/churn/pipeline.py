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


@step(
    stage="features",
    inputs=["gold.churn_features"],
    outputs=["gold.churn_train", "gold.churn_holdout"],
    params=["holdout_percent"],
)
def split(ctx, churn_features):
    """A stable split by customer: the same customer always lands on the same side."""
    rows = ctx.sql(
        "SELECT *, hash(customer_id) % 100 < $pct AS _holdout FROM churn_features",
        pct=ctx.params["holdout_percent"],
    )
    return {
        "gold.churn_train": rows.filter("NOT _holdout").project("* EXCLUDE (_holdout)"),
        "gold.churn_holdout": rows.filter("_holdout").project("* EXCLUDE (_holdout)"),
    }


FEATURES = ["recency_days", "frequency", "monetary", "tenure_days", "segment", "country"]


def model_inputs(frame):
    """The model's input columns, typed as the model expects them."""
    x = frame[FEATURES].copy()
    for col in ("segment", "country"):
        x[col] = x[col].fillna("unknown").astype(str)
    for col in ("recency_days", "frequency", "monetary", "tenure_days"):
        x[col] = x[col].astype("float64").fillna(0.0)
    return x


@step(
    stage="train",
    inputs=["gold.churn_train"],
    outputs="ml.churn_training",
    mode="append",
    params=["c", "max_iter"],
)
def train(ctx, churn_train):
    """Logistic regression on recency, frequency, monetary value, tenure, segment and country."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = churn_train.df()
    x, y = model_inputs(frame), frame["churned"].astype(int)
    model = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        (
                            "num",
                            StandardScaler(),
                            ["recency_days", "frequency", "monetary", "tenure_days"],
                        ),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["segment", "country"]),
                    ]
                ),
            ),
            ("clf", LogisticRegression(C=ctx.params["c"], max_iter=ctx.params["max_iter"])),
        ]
    ).fit(x, y)
    ctx.log_params({"c": ctx.params["c"], "max_iter": ctx.params["max_iter"], "rows": len(frame)})
    ctx.log_metrics({"train_churn_rate": float(y.mean())})
    return ctx.log_model(model, input_example=x.head(5))


def scores(model, x, y):
    """The metrics the gate checks."""
    from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

    p = model.predict_proba(x)[:, 1]
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "accuracy": float(accuracy_score(y, p >= 0.5)),
    }


@step(
    stage="evaluate",
    inputs=["ml.churn_training", "gold.churn_holdout"],
    outputs="ml.churn_evaluation",
    mode="append",
)
def evaluate(ctx, churn_training, churn_holdout):
    """Score the newest version and the champion on the held-out customers; run the gate."""
    frame = churn_holdout.df()
    x, y = model_inputs(frame), frame["churned"].astype(int)
    version = ctx.candidate()
    metrics = scores(ctx.load_model(version=version), x, y)
    champion = None
    try:
        champion = scores(ctx.load_model(alias="champion"), x, y)
    except Exception:  # no champion yet: the gate checks the absolute bounds only
        champion = None
    return ctx.gate(metrics, version=version, champion_metrics=champion)


@step(
    stage="apply",
    inputs=["gold.customer_daily"],
    outputs="gold.churn_predictions",
    partition_by="order_date",
    mode="replace_partitions",
    params=["lookback_days"],
)
def score_customers(ctx, customer_daily):
    """Churn risk of every recently active customer, as of each day, scored by the champion.

    Only the days being processed are scored (new days, or days that late rows changed);
    the features look back over the whole history. After a new champion, re-score the past
    with ``prodml run churn --steps score_customers --full-refresh``.
    """
    ctx.table("gold.customer_daily", alias="history")  # the whole history, not just these days
    ctx.table("silver.customers", alias="customers")
    features = ctx.sql(
        """
        WITH days AS (SELECT DISTINCT order_date AS as_of FROM customer_daily)
        SELECT h.customer_id,
               d.as_of AS order_date,
               date_diff('day', max(h.order_date), d.as_of)::DOUBLE AS recency_days,
               sum(h.orders)::DOUBLE AS frequency,
               sum(h.revenue)::DOUBLE AS monetary,
               coalesce(date_diff('day', any_value(c.signup_date), d.as_of), 0)::DOUBLE
                   AS tenure_days,
               coalesce(any_value(c.segment), 'unknown') AS segment,
               coalesce(any_value(c.country), 'unknown') AS country
        FROM days d
        JOIN history h
          ON h.order_date <= d.as_of AND h.order_date > d.as_of - to_days($lookback::INTEGER)
        LEFT JOIN customers c USING (customer_id)
        GROUP BY h.customer_id, d.as_of
        """,
        lookback=ctx.params["lookback_days"],
    )
    return ctx.score(features, alias="champion", keep=["customer_id", "order_date"])
