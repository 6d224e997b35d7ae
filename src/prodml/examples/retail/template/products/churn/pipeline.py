"""Churn: labels at a cutoff, point-in-time customer features, a model, its gate, scoring."""

from prodml import step
from prodml.features import FeatureLookup


@step(
    stage="features",
    inputs=["gold.customer_daily"],
    outputs="gold.churn_labels",
    params=["churn_window_days", "lookback_days"],
)
def churn_labels(ctx, customer_daily):
    """Customers active in the look-back before the cutoff, and whether they churned after it.

    The features are not here: train and evaluate look them up in features.customer_features
    as of ``cutoff_ts``, point in time.
    """
    return ctx.sql(
        """
        WITH bounds AS (
            SELECT max(order_date) - to_days($window::INTEGER) AS cutoff FROM customer_daily
        ),
        active AS (
            SELECT DISTINCT d.customer_id
            FROM customer_daily d, bounds b
            WHERE d.order_date <= b.cutoff
              AND d.order_date > b.cutoff - to_days($lookback::INTEGER)
        ),
        future AS (
            SELECT DISTINCT d.customer_id
            FROM customer_daily d, bounds b
            WHERE d.order_date > b.cutoff
        )
        SELECT a.customer_id,
               timezone('UTC', b.cutoff + INTERVAL 1 DAY) AS cutoff_ts,
               f.customer_id IS NULL AS churned
        FROM active a
        CROSS JOIN bounds b
        LEFT JOIN future f USING (customer_id)
        ORDER BY a.customer_id
        """,
        window=ctx.params["churn_window_days"],
        lookback=ctx.params["lookback_days"],
    )


@step(
    stage="features",
    inputs=["gold.churn_labels"],
    outputs=["gold.churn_train", "gold.churn_holdout"],
    params=["holdout_percent"],
)
def split(ctx, churn_labels):
    """A stable split by customer: the same customer always lands on the same side."""
    rows = ctx.sql(
        "SELECT *, hash(customer_id) % 100 < $pct AS _holdout FROM churn_labels",
        pct=ctx.params["holdout_percent"],
    )
    return {
        "gold.churn_train": rows.filter("NOT _holdout").project("* EXCLUDE (_holdout)"),
        "gold.churn_holdout": rows.filter("_holdout").project("* EXCLUDE (_holdout)"),
    }


FEATURES = ["recency_days", "frequency", "monetary", "tenure_days", "segment", "country"]
# the shared customer features as of each label's time; a snapshot older than two days
# means the customer was inactive (no snapshot since): no features
CUSTOMER_FEATURES = FeatureLookup("features.customer_features", features=FEATURES, ttl="2d")


def labelled(ctx, labels):
    """Labels joined point in time to the customer features: the model inputs and the target.

    Every label row has features (labelled customers were active in the look-back, so a
    snapshot exists at the cutoff); rows without any would be dropped here.
    """
    training = ctx.training_set(labels, timestamp="cutoff_ts", lookups=[CUSTOMER_FEATURES])
    frame = training.df().dropna(subset=FEATURES)
    return training, frame[FEATURES], frame["churned"].astype(int)


@step(
    stage="train",
    inputs=["gold.churn_train", "features.customer_features"],
    outputs="ml.churn_training",
    mode="append",
    params=["c", "max_iter"],
)
def train(ctx, churn_train, customer_features):
    """Logistic regression on recency, frequency, monetary value, tenure, segment and country."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    training, x, y = labelled(ctx, churn_train)
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
    ctx.log_params({"c": ctx.params["c"], "max_iter": ctx.params["max_iter"], "rows": len(x)})
    ctx.log_metrics({"train_churn_rate": float(y.mean())})
    # the training set's spec goes with the model: consumers of the features, online lookups
    return ctx.log_model(model, input_example=x.head(5), training_set=training)


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
    inputs=["ml.churn_training", "gold.churn_holdout", "features.customer_features"],
    outputs="ml.churn_evaluation",
    mode="append",
)
def evaluate(ctx, churn_training, churn_holdout, customer_features):
    """Score the newest version and the champion on the held-out customers; run the gate."""
    _, x, y = labelled(ctx, churn_holdout)
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
    inputs=["features.customer_features"],
    outputs="gold.churn_predictions",
    partition_by="order_date",
    mode="replace_partitions",
)
def score_customers(ctx, customer_features):
    """Churn risk of every recently active customer, as of each day, scored by the champion.

    Only the days being processed are scored (new days, or days whose features changed).
    After a new champion, re-score the past with
    ``prodml run churn --steps score_customers --full-refresh``.
    """
    return ctx.score(customer_features, alias="champion", keep=["customer_id", "order_date"])
