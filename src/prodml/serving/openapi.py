"""The OpenAPI documents of the request bodies the routes parse themselves (on the hot path
bodies are read as bytes and parsed column-wise, not through pydantic)."""

from __future__ import annotations

from typing import Any

JSON = "application/json"

MLFLOW_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "description": "Exactly one of dataframe_split, dataframe_records, instances, "
                "inputs (MLflow's scoring protocol), and optionally params.",
                "properties": {
                    "dataframe_split": {
                        "type": "object",
                        "properties": {
                            "columns": {"type": "array", "items": {"type": "string"}},
                            "data": {"type": "array", "items": {"type": "array"}},
                        },
                    },
                    "dataframe_records": {"type": "array", "items": {"type": "object"}},
                    "instances": {},
                    "inputs": {},
                    "params": {"type": "object"},
                },
            }
        },
        "text/csv": {"schema": {"type": "string"}},
    },
}
PRODUCT_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["records"],
                "properties": {"records": {"type": "array", "items": {"type": "object"}}},
            }
        }
    },
}
OUTCOME_BODY = {
    "required": True,
    "content": {
        JSON: {
            "schema": {
                "type": "object",
                "required": ["outcomes"],
                "properties": {
                    "outcomes": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["unit_id", "metric", "value"],
                            "properties": {
                                "unit_id": {"type": ["string", "integer"]},
                                "metric": {"type": "string"},
                                "value": {"type": "number"},
                                "time": {"type": "string", "format": "date-time"},
                            },
                        },
                    }
                },
            }
        }
    },
}
SECURED: dict[str, Any] = {"security": [{"bearer": []}]}
