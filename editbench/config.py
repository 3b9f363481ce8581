"""Settings read from the environment, in one place, with credentials redacted for display.

Every knob has an embedded default so `editbench demo` works on a machine with nothing
installed: SQLite under ``EDITBENCH_HOME`` and, when no broker URL is set, an embedded Redis.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    broker_url: str | None
    lease_seconds: float
    max_attempts: int
    image_ttl_seconds: int

    @property
    def store_dir(self) -> Path:
        """Content-addressed copies of benchmark images (never the user's own folder)."""
        return self.home / "store"

    @property
    def artifacts_dir(self) -> Path:
        """Edited images, one folder per run; the durable copy of what Redis holds."""
        return self.home / "artifacts"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"


def load_settings() -> Settings:
    home = Path(os.environ.get("EDITBENCH_HOME", ".editbench")).expanduser().resolve()
    database_url = os.environ.get("EDITBENCH_DATABASE_URL") or f"sqlite:///{home / 'editbench.db'}"
    return Settings(
        home=home,
        database_url=database_url,
        broker_url=os.environ.get("EDITBENCH_BROKER_URL") or None,
        lease_seconds=float(os.environ.get("EDITBENCH_LEASE_SECONDS", "60")),
        max_attempts=int(os.environ.get("EDITBENCH_MAX_ATTEMPTS", "3")),
        image_ttl_seconds=int(os.environ.get("EDITBENCH_IMAGE_TTL_SECONDS", str(7 * 24 * 3600))),
    )


# Userinfo runs to the LAST "@" before the path: a password may itself contain a raw "@"
# (``redis://:p@ss@host``), and stopping at the first one would leave the rest of it visible.
_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s]+)@")
# redis-py and libpq also take the password as a query parameter (``?password=...``).
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&](?:password|passwd|pwd)=)[^&\s#]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Hide ``user:password@`` (and ``?password=``) in every URL inside ``text`` (logs, status,
    run cards)."""

    def _mask(match: re.Match[str]) -> str:
        userinfo = match.group("userinfo")
        user = userinfo.split(":", 1)[0] if ":" in userinfo else ""
        return f"{match.group('scheme')}{user + ':' if user else ''}***@"

    return _QUERY_PASSWORD.sub(r"\g<key>***", _CREDENTIALS.sub(_mask, text))
