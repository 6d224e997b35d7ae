"""Platform and product configuration: closed models, overlays, overrides and secrets."""

from prodml.config.loader import Platform, config_hash, find_root, load_platform, load_product
from prodml.config.platform import ComputeProfile, EnvironmentSettings, PlatformFile
from prodml.config.product import ProductConfig
from prodml.config.secrets import Secrets, redact

__all__ = [
    "ComputeProfile",
    "EnvironmentSettings",
    "Platform",
    "PlatformFile",
    "ProductConfig",
    "Secrets",
    "config_hash",
    "find_root",
    "load_platform",
    "load_product",
    "redact",
]
