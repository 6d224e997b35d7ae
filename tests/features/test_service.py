"""The feature store on the retail example, driven as a user would: the CLI, the workspace and
a real server. One customer feature table; churn and demand both train on it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from tests.helpers import assert_clean_error, prodml_cli, prodml_main
from tests.live import serving

import prodml
from prodml.errors import NotFoundError, UsageError
from prodml.features import FeatureLookup

pytestmark = pytest.mark.slow

TABLE = "features.customer_features"
CHURN_INPUTS = ["recency_days", "frequency", "monetary", "tenure_days", "segment", "country"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("features") / "demo"
    assert prodml_cli("init", str(root), "--example", "retail", "--days", "40").code == 0
    for args in (("run", "churn"), ("run", "demand"), ("models", "promote", "churn")):
        r = prodml_cli(*args, cwd=root, timeout=300)
        assert r.code == 0, r.err
    return root


def _latest_per_customer(ws: Any) -> dict[str, dict[str, Any]]:
    rows = ws.read(TABLE).sort_by([("customer_id", "ascending"), ("as_of", "ascending")])
    return {r["customer_id"]: r for r in rows.to_pylist()}  # the last row per key wins


def test_churn_and_demand_are_consumers_of_the_one_table(demo: Path) -> None:
    shown = json.loads(prodml_cli("features", "show", TABLE, "--json", cwd=demo).out)
    assert (shown["product"], shown["step"]) == ("retail_core", "retail_core.customer_features")
    assert shown["keys"] == ["customer_id"] and shown["timestamp"] == "as_of"
    # (another test of this module trains churn again: its version 2 may be a consumer too)
    assert {(c["model"], c["version"], c["product"]) for c in shown["consumers"]} >= {
        ("dev.ml.churn", 1, "churn"),
        ("dev.ml.customer_demand", 1, "demand"),
    }
    assert {c["product"] for c in shown["consumers"]} == {"churn", "demand"}
    assert shown["features"]["recency_days"]["type"] == "double"
    assert shown["features"]["items"]["used_by"] == ["dev.ml.customer_demand/1"]  # demand only
    listed = json.loads(prodml_cli("features", "list", "--json", cwd=demo).out)
    assert [t["table"] for t in listed] == [TABLE]
    text = prodml_cli("features", "show", TABLE, cwd=demo)
    assert text.code == 0 and "dev.ml.customer_demand" in text.out
    # the spec went with the model: what it was trained on, point in time
    with prodml.connect(demo) as ws:
        spec = ws.model_training_set("churn", 1)
    assert spec is not None and spec["timestamp"] == "cutoff_ts"
    assert spec["lookups"][0]["table"] == TABLE and spec["lookups"][0]["ttl_seconds"] == 172800


def test_training_set_takes_each_label_at_its_cutoff(demo: Path) -> None:
    with prodml.connect(demo) as ws:
        labels = ws.read("gold.churn_labels")
        training = ws.training_set(
            labels, timestamp="cutoff_ts", lookups=[FeatureLookup(TABLE, features=CHURN_INPUTS)]
        )
        snapshots = ws.read(TABLE)
    assert training.data.num_rows == labels.num_rows
    assert training.data.column_names == [*labels.column_names, *CHURN_INPUTS]
    # the features of each label are the snapshot taken at the end of the cutoff day
    cutoff = labels.column("cutoff_ts")[0]
    at_cutoff = snapshots.filter(pc.equal(snapshots.column("as_of"), cutoff))
    expected = {r["customer_id"]: r for r in at_cutoff.to_pylist()}
    for row in training.data.to_pylist():
        assert {f: row[f] for f in CHURN_INPUTS} == {
            f: expected[row["customer_id"]][f] for f in CHURN_INPUTS
        }


def test_bad_lookups_are_clear(demo: Path) -> None:
    with prodml.connect(demo) as ws:
        labels = ws.read("gold.churn_labels")
        with pytest.raises(NotFoundError, match="did you mean 'recency_days'") as err:
            ws.training_set(
                labels,
                timestamp="cutoff_ts",
                lookups=[FeatureLookup(TABLE, features=["recency_day"])],
            )
        assert err.value.message == f"unknown feature 'recency_day' in {TABLE}"
        with pytest.raises(NotFoundError, match=r"unknown feature table 'features\.customer'"):
            ws.training_set(
                labels, timestamp="cutoff_ts", lookups=[FeatureLookup("features.customer")]
            )
        with pytest.raises(UsageError, match="ttl '2 days' is not a duration"):
            ws.training_set(
                labels, timestamp="cutoff_ts", lookups=[FeatureLookup(TABLE, ttl="2 days")]
            )
        with pytest.raises(UsageError, match=r"0 key column\(s\) given for the table.s 1 key"):
            ws.training_set(labels, timestamp="cutoff_ts", lookups=[FeatureLookup(TABLE, keys=[])])
        renamed = labels.rename_columns(["customer", "cutoff_ts", "churned"])
        with pytest.raises(Exception, match="has no key column 'customer_id'"):
            ws.training_set(renamed, timestamp="cutoff_ts", lookups=[FeatureLookup(TABLE)])
        nulls = labels.set_column(0, "customer_id", pa.array([None] * labels.num_rows, pa.string()))
        with pytest.raises(Exception, match="NULL 'customer_id'"):
            ws.training_set(nulls, timestamp="cutoff_ts", lookups=[FeatureLookup(TABLE)])
        naive = labels.set_column(
            1, "cutoff_ts", labels.column("cutoff_ts").cast(pa.timestamp("us"))
        )
        with pytest.raises(Exception, match="no time zone"):
            ws.training_set(naive, timestamp="cutoff_ts", lookups=[FeatureLookup(TABLE)])


def _publish(demo: Path, *args: str) -> dict[str, Any]:
    r = prodml_cli("features", "publish", TABLE, *args, "--json", cwd=demo)
    assert r.code == 0, r.err
    (result,) = json.loads(r.out)
    return dict(result)


def test_publish_is_incremental_and_lookups_read_the_latest(demo: Path) -> None:
    first = _publish(demo)
    assert first["from_version"] is None and first["written"] == first["keys"] > 100
    again = _publish(demo)
    assert again["up_to_date"] and again["written"] == 0 and again["rows_read"] == 0
    with prodml.connect(demo) as ws:
        latest = _latest_per_customer(ws)
        total_rows = ws.read(TABLE).num_rows
    customer = sorted(latest)[len(latest) // 2]
    looked_up = prodml_cli(
        "features", "online", TABLE, "--key", f"customer_id={customer}", "--json", cwd=demo
    )
    found = json.loads(looked_up.out)
    assert set(found["statuses"].values()) == {"present"}
    expected = latest[customer]
    assert found["values"] == {f: expected[f] for f in found["values"]}
    assert found["event_timestamp"] == expected["as_of"].isoformat()

    # a new day: only the rows of the days it touched are read; only changed keys written
    assert prodml_cli("examples", "add-days", "--days", "1", cwd=demo).code == 0
    assert prodml_cli("run", "churn", cwd=demo, timeout=300).code == 0
    third = _publish(demo)
    assert third["from_version"] == first["to_version"] < third["to_version"]
    assert 0 < third["rows_read"] < total_rows / 5
    assert 0 < third["written"] <= third["keys"]
    assert _publish(demo)["written"] == 0
    full = _publish(demo, "--full")
    assert full["rows_read"] > third["rows_read"] and full["written"] == 0  # nothing changed
    with prodml.connect(demo) as ws:
        latest = _latest_per_customer(ws)
        online = ws.online_features(TABLE, [{"customer_id": c} for c in latest])
    assert [o.event_timestamp for o in online] == [r["as_of"] for r in latest.values()]


def test_cli_lookup_errors(demo: Path, tmp_path: Path) -> None:
    # a copy, published here: a lookup's key errors come after the table is found online, and
    # the other tests' publishing starts from nothing published
    demo = Path(shutil.copytree(demo, tmp_path / "demo"))
    assert prodml_main("features", "publish", cwd=demo).code == 0
    assert_clean_error(
        prodml_main(
            "features", "online", "features.customer_featurs", "-k", "customer_id=1", cwd=demo
        ),
        "did you mean 'features.customer_features'",
    )
    assert_clean_error(
        prodml_main("features", "online", TABLE, "-k", "customer=1", cwd=demo),
        "has no key 'customer_id'",
    )
    assert_clean_error(
        prodml_main("features", "online", TABLE, "-k", "customer_id", cwd=demo), "NAME=VALUE"
    )
    assert_clean_error(prodml_main("features", "show", "features.nope", cwd=demo), "unknown")


def test_served_churn_gets_its_features_from_the_online_store(demo: Path, tmp_path: Path) -> None:
    import mlflow.sklearn
    import pandas as pd

    # a copy: publishing here leaves the module's platform unpublished for the publish test
    demo = Path(shutil.copytree(demo, tmp_path / "demo"))
    _publish(demo)
    with prodml.connect(demo) as ws:
        latest = _latest_per_customer(ws)
        mlflow.set_tracking_uri(ws.tracking_uri)
        mlflow.set_registry_uri(ws.registry_uri)
        name = ws.registered_model("churn")
        # champion and challenger share the traffic: each answer is checked with its version
        models = {
            v["version"]: mlflow.sklearn.load_model(f"models:/{name}/{v['version']}")
            for v in ws.model_versions("churn")
        }
        app = ws.serving_app(["churn"], no_auth=True)
    customers = sorted(latest)[:3]
    frame = pd.DataFrame([{f: latest[c][f] for f in CHURN_INPUTS} for c in customers])

    def expected(answers: list[dict[str, Any]], rows: Any) -> list[float]:
        return [
            float(models[a["model_version"]].predict_proba(rows.iloc[[i]])[0, 1])
            for i, a in enumerate(answers)
        ]

    with serving(app) as live, live.client() as client:
        r = client.post(
            "/v1/products/churn/predict", json={"records": [{"customer_id": c} for c in customers]}
        )
        assert r.status_code == 200, r.text
        got = r.json()["predictions"]
        assert [p["prediction"] for p in got] == pytest.approx(expected(got, frame), abs=1e-12)
        assert all(set(p["features"].values()) == {"present"} for p in got)

        # a value the request gives wins over the stored one
        override = {"customer_id": customers[0], "recency_days": 200.0}
        r = client.post("/v1/products/churn/predict", json={"records": [override]})
        frame.loc[0, "recency_days"] = 200.0
        answers = r.json()["predictions"]
        assert [a["prediction"] for a in answers] == pytest.approx(
            expected(answers, frame.head(1)), abs=1e-12
        )
        assert r.json()["predictions"][0]["features"]["recency_days"] == "request"

        # a request giving every feature needs no key and no lookup
        full = {f: latest[customers[0]][f] for f in CHURN_INPUTS}
        r = client.post("/v1/products/churn/predict", json={"records": [full]})
        assert r.status_code == 200, r.text
        assert set(r.json()["predictions"][0]["features"].values()) == {"request"}

        # the MLflow protocol too
        r = client.post("/invocations", json={"dataframe_records": [{"customer_id": customers[1]}]})
        assert r.status_code == 200, r.text

        # an unknown customer: nothing to look up, and this model cannot score missing values
        r = client.post("/v1/products/churn/predict", json={"records": [{"customer_id": "nobody"}]})
        assert r.status_code == 400
        assert "features not in the online store" in r.json()["message"]
        assert "record 0: country, frequency, monetary" in r.json()["message"]

        r = client.post("/v1/products/churn/predict", json={"records": [{"id": 1}]})
        assert r.status_code == 400 and "need the field 'customer_id'" in r.json()["message"]

        r = client.post(
            "/v1/features/online",
            json={"table": TABLE, "entities": [{"customer_id": customers[0]}]},
        )
        assert r.status_code == 200, r.text
        (result,) = r.json()["results"]
        assert result["values"]["frequency"] == latest[customers[0]]["frequency"]
        assert result["entity"] == {"customer_id": customers[0]}
        r = client.post(
            "/v1/features/online",
            json={"feature_service": "churn", "entities": [{"customer_id": "nobody"}]},
        )
        assert r.status_code == 200 and set(r.json()["results"][0]["statuses"].values()) == {
            "not_found"
        }
        for body, status, needle in (
            (
                {"table": "features.custmer_features", "entities": [{"customer_id": 1}]},
                404,
                "did you mean",
            ),
            ({"table": TABLE, "entities": []}, 400, "non-empty list"),
            ({"table": TABLE, "entities": [{"id": 1}]}, 400, "has no key 'customer_id'"),
            ({"table": TABLE, "entities": [5]}, 400, "must be an object"),
            ({"table": TABLE, "feature_service": "churn", "entities": [{}]}, 400, "exactly one"),
            (
                {"table": TABLE, "features": ["nope"], "entities": [{"customer_id": 1}]},
                404,
                "unknown feature",
            ),
            ({"tabel": TABLE, "entities": [{}]}, 400, "unknown field 'tabel'"),
            ([1, 2], 400, "JSON object"),
        ):
            r = client.post("/v1/features/online", json=body)
            assert r.status_code == status, (body, r.text)
            assert needle in r.json()["message"], (body, r.text)
        r = client.post(
            "/v1/features/online",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        assert r.status_code == 400


def test_item7_not_published_is_one_status_on_every_route(demo: Path, tmp_path: Path) -> None:
    demo = Path(shutil.copytree(demo, tmp_path / "demo"))
    for state in (demo / ".prodml").glob("online.db*"):  # another test may have published
        state.unlink()
    with prodml.connect(demo) as ws:
        app = ws.serving_app(["churn"], no_auth=True)
    with serving(app) as live, live.client() as client:
        answers = {
            "predict": client.post(
                "/v1/products/churn/predict", json={"records": [{"customer_id": "C000001"}]}
            ),
            "invocations": client.post(
                "/invocations", json={"dataframe_records": [{"customer_id": "C000001"}]}
            ),
            "features": client.post(
                "/v1/features/online",
                json={"table": TABLE, "entities": [{"customer_id": "C000001"}]},
            ),
            "feature_service": client.post(
                "/v1/features/online",
                json={"feature_service": "churn", "entities": [{"customer_id": "C000001"}]},
            ),
        }
    statuses = {k: (r.status_code, r.json()["error_code"]) for k, r in answers.items()}
    assert set(statuses.values()) == {(404, "RESOURCE_DOES_NOT_EXIST")}, statuses
    for r in answers.values():
        assert "has not been published to the online store" in r.json()["message"]
        assert "run: prodml features publish features.customer_features" in r.json()["message"]
