"""Resolve ``${secret:NAME}`` references from environment variables or a secrets file."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from prodml.errors import ConfigError

SECRET_RE = re.compile(r"\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}")


class Secrets:
    """Looks secrets up at the moment they are used, so resolved values never sit in config.

    A secret ``NAME`` comes from the environment variable ``NAME`` or, failing that, from the
    ``secrets_file`` (a YAML mapping, kept out of version control).
    """

    def __init__(self, secrets_file: Path | None = None, environ: Mapping[str, str] | None = None):
        self._file = secrets_file
        self._environ = os.environ if environ is None else environ
        self._from_file: dict[str, str] | None = None

    def resolve(self, text: str) -> str:
        """Replace every ``${secret:NAME}`` in ``text`` with the secret's value."""
        return SECRET_RE.sub(lambda m: self.get(m.group(1)), text)

    def get(self, name: str) -> str:
        """The value of secret ``name``.

        Raises:
            ConfigError: the secret is set nowhere.
        """
        if name in self._environ:
            return self._environ[name]
        value = self._file_values().get(name)
        if value is None:
            where = f" or in {self._file}" if self._file else ""
            raise ConfigError(
                f"secret {name!r} is not set",
                hint=f"export {name}=… in the environment{where}",
            )
        return value

    def _file_values(self) -> dict[str, str]:
        if self._from_file is None:
            self._from_file = {}
            if self._file and self._file.is_file():
                from prodml.config.yamlfile import load_yaml

                doc = load_yaml(self._file)
                self._from_file = {str(k): str(v) for k, v in doc.data.items()}
        return self._from_file


def redact(text: str) -> str:
    """Hide the password of a URL-like string (``scheme://user:pw@host`` → ``user:***@host``)."""
    return re.sub(r"(://[^:/@\s]*:)\S*@", r"\1***@", text)
