"""Demand: daily units per product (SQL in sql/), lag features, and a customer demand model."""

from prodml import step
from prodml.features import FeatureLookup


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


# -- customer demand: the shared customer features, point in time -----------------------------

FEATURES = ["recency_days", "frequency", "monetary", "items", "tenure_days", "segment", "country"]
# the shared customer features as of each label's time; a snapshot older than two days
# means the customer was inactive (no snapshot since): no features
CUSTOMER_FEATURES = FeatureLookup("features.customer_features", features=FEATURES, ttl="2d")


@step(
    stage="features",
    inputs=["gold.customer_daily"],
    outputs="gold.customer_demand_labels",
    params=["horizon_days", "holdout_percent"],
)
def customer_demand_labels(ctx, customer_daily):
    """For each customer and day with orders: the items they buy in the next horizon_days.

    Days too recent for a full horizon are left out; ``holdout`` splits stably by customer.
    """
    return ctx.sql(
        """
        WITH bounds AS (SELECT max(order_date) AS last_day FROM customer_daily)
        SELECT d.customer_id,
               timezone('UTC', d.order_date + INTERVAL 1 DAY) AS as_of,
               coalesce(sum(n.items), 0)::DOUBLE AS items_next,
               hash(d.customer_id) % 100 < $pct AS holdout
        FROM customer_daily d
        CROSS JOIN bounds b
        LEFT JOIN customer_daily n
          ON n.customer_id = d.customer_id
         AND n.order_date > d.order_date
         AND n.order_date <= d.order_date + to_days($horizon::INTEGER)
        WHERE d.order_date <= b.last_day - to_days($horizon::INTEGER)
        GROUP BY d.customer_id, d.order_date
        ORDER BY d.customer_id, as_of
        """,
        horizon=ctx.params["horizon_days"],
        pct=ctx.params["holdout_percent"],
    )


def labelled(ctx, labels, holdout):
    """One side of the split joined point in time to the customer features."""
    rows = labels.filter("holdout" if holdout else "NOT holdout")
    training = ctx.training_set(rows, timestamp="as_of", lookups=[CUSTOMER_FEATURES])
    frame = training.df().dropna(subset=FEATURES)
    return training, frame[FEATURES], frame["items_next"]


@step(
    stage="train",
    inputs=["gold.customer_demand_labels", "features.customer_features"],
    outputs="ml.customer_demand_training",
    mode="append",
    params=["alpha"],
)
def train_customer_demand(ctx, customer_demand_labels, customer_features):
    """Ridge regression of next-week items on the customer features."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    training, x, y = labelled(ctx, customer_demand_labels, holdout=False)
    numeric = [f for f in FEATURES if f not in ("segment", "country")]
    model = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [
                        ("num", StandardScaler(), numeric),
                        ("cat", OneHotEncoder(handle_unknown="ignore"), ["segment", "country"]),
                    ]
                ),
            ),
            ("reg", Ridge(alpha=ctx.params["alpha"])),
        ]
    ).fit(x, y)
    ctx.log_params({"alpha": ctx.params["alpha"], "rows": len(x)})
    return ctx.log_model(model, input_example=x.head(5), training_set=training)


@step(
    stage="evaluate",
    inputs=[
        "ml.customer_demand_training",
        "gold.customer_demand_labels",
        "features.customer_features",
    ],
    outputs="ml.customer_demand_evaluation",
    mode="append",
)
def evaluate_customer_demand(ctx, training, customer_demand_labels, customer_features):
    """R² and MAE of the newest version on the held-out customers; run the gate."""
    from sklearn.metrics import mean_absolute_error, r2_score

    _, x, y = labelled(ctx, customer_demand_labels, holdout=True)
    version = ctx.candidate()
    predicted = ctx.load_model(version=version).predict(x)
    metrics = {"r2": float(r2_score(y, predicted)), "mae": float(mean_absolute_error(y, predicted))}
    return ctx.gate(metrics, version=version)
