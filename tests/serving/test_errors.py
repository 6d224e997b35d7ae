"""Bad requests get a 4xx that names the problem; tokens guard the endpoint; /ready says why a
model is not served."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.live import Live, serving
from tests.serving.conftest import ROWS, configure, copy_model_artifacts, new_platform

import prodml
from prodml.errors import UsageError
from prodml.governance.tokens import new_token, token_hash
from prodml.serving.inference_log import QueueWriter

SMALL = """\
endpoint:
  variants:
    champion: {alias: champion}
  max_body_bytes: 2048
  max_rows: 50
"""

PREDICT = "/v1/products/clf/predict"
CSV_HEADERS = {"Content-Type": "text/csv"}


@pytest.fixture(scope="module")
def small(trained: Path) -> Iterator[Live]:
    """A server with a 2 KiB body limit and at most 50 rows per request, no auth."""
    configure(trained, SMALL)
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    with serving(app) as live:
        yield live


def problem(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    doc = r.json()
    assert set(doc) == {"error_code", "message"} and doc["error_code"] == code, doc
    return str(doc["message"])


@pytest.mark.slow
def test_malformed_json_is_a_400_saying_so(small: Live) -> None:
    for route in (PREDICT, "/invocations"):
        r = httpx.post(
            small.url + route,
            content=b'{"records": [',
            headers={"Content-Type": "application/json"},
        )
        assert "malformed JSON" in problem(r, 400, "BAD_REQUEST")
        r = httpx.post(small.url + route, content=b"", headers={"Content-Type": "application/json"})
        assert "empty" in problem(r, 400, "BAD_REQUEST")
    r = httpx.post(small.url + PREDICT, json=[1, 2])
    assert '{"records"' in problem(r, 400, "BAD_REQUEST")
    r = httpx.post(small.url + "/invocations", json={"dataframe_records": ROWS, "instances": ROWS})
    message = problem(r, 400, "BAD_REQUEST")
    assert "exactly one of" in message and "dataframe_records, instances" in message


@pytest.mark.slow
def test_missing_columns_are_each_named(small: Live) -> None:
    r = httpx.post(small.url + PREDICT, json={"records": [{"c": 1.0}]})
    message = problem(r, 400, "BAD_REQUEST")
    assert "missing column(s): a, b" in message and "a (double), b (double)" in message
    r = httpx.post(small.url + PREDICT, json={"records": [{"b": 1.0}]})
    assert "missing column(s): a;" in problem(r, 400, "BAD_REQUEST")
    r = httpx.post(
        small.url + "/invocations",
        json={"dataframe_split": {"columns": ["b"], "data": [[1.0]]}},
    )
    assert "missing column(s): a;" in problem(r, 400, "BAD_REQUEST")
    r = httpx.post(small.url + "/invocations", json={"instances": [[1.0]]})
    assert "the model takes 2 (a, b)" in problem(r, 400, "BAD_REQUEST")
    r = httpx.post(small.url + PREDICT, json={"records": [{"a": 1, "b": 2}, {"a": 1}]})
    assert "records[1]" in problem(r, 400, "BAD_REQUEST")


@pytest.mark.slow
def test_wrong_types_name_the_column_and_record(small: Live) -> None:
    records = [{"a": 1.0, "b": 2.0}, {"a": "high", "b": 2.0}, {"a": 0.0, "b": [1]}]
    message = problem(
        httpx.post(small.url + PREDICT, json={"records": records}), 400, "BAD_REQUEST"
    )
    assert 'a expects double, record 1 has "high"' in message
    assert "b expects double, record 2 has [1]" in message
    r = httpx.post(
        small.url + "/invocations",
        content="a,b\n1.0,2.0\nlots,3\n",
        headers={"Content-Type": "text/csv"},
    )
    assert 'a expects double, record 1 has "lots"' in problem(r, 400, "BAD_REQUEST")


@pytest.mark.slow
def test_oversized_body_is_a_413(small: Live) -> None:
    record = {"a": 0.5, "b": 0.5, "note": "x" * 2100}  # one record, over 2048 bytes
    r = httpx.post(small.url + PREDICT, json={"records": [record]})
    assert "the limit is 2048" in problem(r, 413, "REQUEST_TOO_LARGE")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while reading
        yield b'{"records": ['
        for _ in range(200):
            yield b'{"a": 0.123456789, "b": 0.987654321},'
        yield b'{"a": 1, "b": 2}]}'

    r = httpx.post(small.url + PREDICT, content=chunks())
    assert "over the limit of 2048 bytes" in problem(r, 413, "REQUEST_TOO_LARGE")
    r = httpx.post(small.url + PREDICT, json={"records": [{"a": 1, "b": 2}] * 51})
    assert "at most 50" in problem(r, 413, "REQUEST_TOO_LARGE")
    # the server still answers
    assert httpx.post(small.url + PREDICT, json={"records": ROWS}).status_code == 200


@pytest.mark.slow
def test_unknown_product_lists_served_ones(small: Live) -> None:
    for method, route in (
        ("POST", "/v1/products/churn/predict"),
        ("POST", "/v1/products/churn/invocations"),
        ("GET", "/v1/products/churn"),
    ):
        r = httpx.request(method, small.url + route, json={"records": ROWS})
        message = problem(r, 404, "RESOURCE_DOES_NOT_EXIST")
        assert "'churn'" in message and "served: clf" in message


@pytest.mark.slow
def test_unsupported_content_type_is_a_415(small: Live) -> None:
    for ctype in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        r = httpx.post(
            small.url + "/invocations", content=b"a=1&b=2", headers={"Content-Type": ctype}
        )
        message = problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert ctype in message and "application/json or text/csv" in message


@pytest.mark.slow
def test_bearer_tokens(trained: Path) -> None:
    token, other = new_token()[1], new_token()[1]
    assert token.startswith("pdml_") and token != other
    configure(trained, "endpoint: {}\n")  # no tokens: the façade refuses to build the app
    with prodml.connect(trained) as ws, pytest.raises(UsageError, match="has no tokens"):
        ws.serving_app()
    configure(
        trained,
        "endpoint:\n  auth:\n    tokens:\n"
        f"      - {{name: app, sha256: {token_hash(token)}}}\n"
        f"      - {{name: batch, sha256: {token_hash(other)}}}\n",
    )
    with prodml.connect(trained) as ws:
        app = ws.serving_app()
    body = {"records": ROWS}
    with serving(app) as live:
        url = live.url
        assert httpx.get(url + "/health").status_code == 200  # probes need no token
        assert httpx.get(url + "/ready").status_code == 200
        for headers in (
            {},
            {"Authorization": "Bearer pml_wrong"},
            {"Authorization": f"Basic {token}"},
            {"Authorization": "Bearer"},
            {"Authorization": token},
            {"Authorization": f"Bearer {token_hash(token)}"},  # the hash is not the token
        ):
            for method, route in (
                ("POST", PREDICT),
                ("POST", "/invocations"),
                ("GET", "/v1/products/clf"),
                ("GET", "/v1/products"),
                ("POST", "/v1/admin/reload"),
            ):
                r = httpx.request(method, url + route, json=body, headers=headers)
                message = problem(r, 401, "UNAUTHENTICATED")
                assert "bearer token" in message, (headers, route)
                assert r.headers["WWW-Authenticate"] == "Bearer"
        for t in (token, other):
            ok = {"Authorization": f"Bearer {t}"}
            assert httpx.post(url + PREDICT, json=body, headers=ok).status_code == 200
            assert httpx.get(url + "/v1/products", headers=ok).json() == {"products": ["clf"]}
        ok = {"Authorization": f"bearer {token}"}  # the scheme is case-insensitive
        assert httpx.post(url + "/invocations", json={"instances": ROWS}, headers=ok).is_success


@pytest.mark.slow
def test_ready_is_503_while_a_variant_fails_to_load(trained: Path, tmp_path: Path) -> None:
    """A version whose model file is gone: /ready says which variant failed and why."""
    artifacts = copy_model_artifacts(trained, tmp_path / "broken-model")
    with prodml.connect(trained) as ws:
        client = ws._w.registry.client
        v1 = client.get_model_version("dev.ml.clf", "1")
        broken = client.create_model_version("dev.ml.clf", str(artifacts), run_id=v1.run_id)
        ws.set_alias("clf", "broken", int(broken.version))
    (artifacts / "model.skops").unlink()
    configure(
        trained,
        "endpoint:\n  variants:\n    champion: {alias: champion}\n"
        "    canary: {alias: broken, weight: 0}\n",
    )
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    try:
        with serving(app, ready=False) as live:
            state = _settled(live.url)
            assert state.status_code == 503
            doc = state.json()
            assert doc["ready"] is False and doc["products"]["clf"]["champion"] == "ready"
            canary = doc["products"]["clf"]["canary"]
            assert canary.startswith(f"failed: version {broken.version}: ")
            assert "model.skops" in canary
            # the champion keeps serving meanwhile
            assert httpx.post(live.url + PREDICT, json={"records": ROWS}).status_code == 200
    finally:
        with prodml.connect(trained) as ws:
            ws._w.registry.client.delete_registered_model_alias("dev.ml.clf", "broken")
            ws._w.registry.client.delete_model_version("dev.ml.clf", broken.version)
        shutil.rmtree(artifacts, ignore_errors=True)


def _settled(url: str) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        r = httpx.get(url + "/ready")
        if "loading" not in r.json()["products"]["clf"].values():
            return r
        assert time.monotonic() < deadline, r.text
        time.sleep(0.05)


def test_ready_is_503_before_any_champion_exists(tmp_path: Path) -> None:
    root = new_platform(tmp_path / "p")  # never trained: no registered model at all
    with prodml.connect(root) as ws:
        app = ws.serving_app(no_auth=True)
    with serving(app, ready=False) as live:
        r = _settled(live.url)
        assert r.status_code == 503
        assert r.json() == {"ready": False, "products": {"clf": {"champion": "no champion alias"}}}
        r = httpx.post(live.url + PREDICT, json={"records": ROWS})
        message = problem(r, 503, "TEMPORARILY_UNAVAILABLE")
        assert "no champion alias" in message and r.headers["Retry-After"] == "1"
        r = httpx.post(live.url + "/invocations", json={"dataframe_records": ROWS})
        assert "no champion alias" in problem(r, 503, "TEMPORARILY_UNAVAILABLE")
        assert httpx.get(live.url + "/health").json() == {"status": "ok"}


# -- regressions----------------------------------------------------------------------------------


@pytest.mark.slow
def test_max_body_bytes_above_1_mib_is_honoured(trained: Path) -> None:
    """Regression: product.yaml `max_body_bytes: 4000000` still answers 413 at 1 MiB (app.py caps the
    limit with create_app's max_body_bytes=1_048_576, which serving_app never raises)."""
    configure(
        trained,
        "endpoint:\n  variants:\n    champion: {alias: champion}\n  max_body_bytes: 4000000\n",
    )
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    record = {"a": 1.0, "b": 2.0, "note": "x" * 1_500_000}  # 1.5 MB: under the 4 MB limit
    with serving(app) as live:
        r = httpx.post(live.url + PREDICT, json={"records": [record]})
        assert r.status_code == 200, r.text


@pytest.mark.slow
def test_a_bad_request_does_not_fail_the_valid_requests_batched_with_it(trained: Path) -> None:
    """Regression: micro-batching runs co-queued requests in one model call; when the model rejects
    one request's rows (a null → NaN), every request of that batch gets that 400 (batching.py
    sets the batch's exception on all jobs)."""
    configure(
        trained,
        "endpoint:\n  variants:\n    champion: {alias: champion}\n"
        "  batching: {max_batch_size: 2, max_wait_ms: 1000}\n",
    )
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    answers: dict[str, httpx.Response] = {}

    def post(name: str, record: dict[str, Any]) -> None:
        answers[name] = httpx.post(live.url + PREDICT, json={"records": [record]}, timeout=30)

    with serving(app) as live:
        threads = [
            threading.Thread(target=post, args=("bad", {"a": None, "b": 1.0})),
            threading.Thread(target=post, args=("good", {"a": 1.0, "b": 1.0})),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert answers["bad"].status_code == 400 and "NaN" in answers["bad"].json()["message"]
    assert answers["good"].status_code == 200, answers["good"].text


def test_log_writer_backs_off_after_a_failure_even_with_flush_rows_waiting(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Regression: when writes fail and flush_rows rows are queued, QueueWriter._loop skips its wait
    (the wait is only taken while rows < flush_rows), so it retries in a tight loop: tens of
    thousands of writes and error log lines per second instead of backing off."""
    caplog.set_level(logging.CRITICAL, logger="prodml.serving.inference_log")  # the error spam
    attempts = 0

    def write(_: Any) -> None:
        nonlocal attempts
        attempts += 1
        raise OSError("storage unavailable")

    class Block:
        n = 1

    writer = QueueWriter(
        write, encode=lambda b: b, flush_rows=1, flush_seconds=1.0, queue_rows=10, name="t"
    )
    try:
        assert writer.put([Block()])
        time.sleep(1.0)
        seen = attempts
    finally:
        writer.close(timeout=0.5)
    assert seen <= 5, f"{seen} write attempts in one second"


@pytest.mark.slow
def test_csv_with_cr_line_endings_is_not_a_500(small: Live) -> None:
    """Regression: payload._csv reads through io.StringIO(text) without newline="" and never catches
    csv.Error: a CSV with CR line endings (old Mac/Excel exports) or a field over csv's
    131072-character limit raises inside the handler and the server answers a bare 500."""
    lf = httpx.post(
        small.url + "/invocations", content="a,b\n1.5,-0.3\n-2,0.7\n", headers=CSV_HEADERS
    )
    assert lf.status_code == 200
    cr = httpx.post(
        small.url + "/invocations", content="a,b\r1.5,-0.3\r-2,0.7\r", headers=CSV_HEADERS
    )
    assert cr.status_code == 200 and cr.json() == lf.json(), cr.text


@pytest.mark.slow
def test_a_csv_field_over_the_csv_module_limit_is_a_400(trained: Path) -> None:
    """Regression (same cause): a 200 kB CSV field is within max_body_bytes but csv.Error escapes."""
    configure(trained, "endpoint:\n  variants:\n    champion: {alias: champion}\n")
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    with serving(app) as live:
        body = "a,b,note\n1.5,-0.3," + "x" * 200_000 + "\n"
        r = httpx.post(live.url + "/invocations", content=body, headers=CSV_HEADERS)
        assert r.status_code < 500, r.text
        assert r.status_code == 200 or "field" in problem(r, 400, "BAD_REQUEST")


@pytest.mark.slow
def test_zero_records_on_invocations_is_a_400(small: Live) -> None:
    """Regression: MLflow-form bodies with zero rows ({"dataframe_split": {..., "data": []}},
    {"inputs": {"a": [], "b": []}}) reach Endpoint.score with records.n == 0: no group is
    scored, `out` stays None and `assert out is not None` (endpoint.py) answers a bare 500.
    The product route refuses an empty list with a 400; these should too (or answer [])."""
    for body in (
        {"dataframe_split": {"columns": ["a", "b"], "data": []}},
        {"inputs": {"a": [], "b": []}},
    ):
        r = httpx.post(small.url + "/invocations", json=body)
        assert r.status_code in (200, 400), (body, r.status_code, r.text)
        if r.status_code == 200:
            assert r.json() == {"predictions": []}


OUTCOMES = """\
endpoint:
  variants:
    champion: {alias: champion, weight: 0.5}
    challenger: {alias: challenger, weight: 0.5}
ab:
  experiments:
    model_test:
      metrics:
        converted: {kind: rate}
"""


@pytest.mark.slow
def test_outcome_time_out_of_range_is_a_400(trained: Path) -> None:
    """Regression: abtest/outcomes.py parse() converts an offset time with .astimezone(UTC); for
    0001-01-01T00:00:00+01:00 that raises OverflowError, which neither parse (only ValueError)
    nor the route's `guarded` (ValueError, TypeError) catches: a bare 500."""
    configure(trained, OUTCOMES)
    with prodml.connect(trained) as ws:
        app = ws.serving_app(no_auth=True)
    route = "/v1/products/clf/outcomes"
    with serving(app) as live:
        ok = {"outcomes": [{"unit_id": "u1", "metric": "converted", "value": 1}]}
        assert httpx.post(live.url + route, json=ok).json() == {"accepted": 1}
        r = httpx.post(
            live.url + route, json={"outcomes": [{"unit_id": "u1", "metric": "x", "value": 1}]}
        )
        assert "not an experiment metric" in problem(r, 400, "BAD_REQUEST")
        early = {
            "outcomes": [
                {
                    "unit_id": "u1",
                    "metric": "converted",
                    "value": 1,
                    "time": "0001-01-01T00:00:00+01:00",
                }
            ]
        }
        r = httpx.post(live.url + route, json=early)
        assert r.status_code == 400, r.text
