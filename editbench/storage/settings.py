"""Where images and artifacts live, read from the environment.

``EDITBENCH_STORE_URL`` unset means today's layout under ``EDITBENCH_HOME`` (nothing changes for
one machine). ``s3://bucket/prefix`` means any S3-compatible service: the endpoint comes from
``EDITBENCH_S3_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL``), credentials from the usual ``AWS_*``
variables, which botocore reads itself — editbench never copies them into anything it prints,
logs or records (:meth:`StorageSettings.describe` is the only description it shows).

The values come from :func:`editbench.config.load_settings` (the one home of every variable);
this module validates the URL and describes it safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from editbench.config import load_settings, redact
from editbench.errors import ConfigurationError

STORE_URL_ENV = "EDITBENCH_STORE_URL"
ENDPOINT_ENV = "EDITBENCH_S3_ENDPOINT_URL"
CACHE_MB_ENV = "EDITBENCH_STORE_CACHE_MB"
SUPPORTED = ("file", "s3")


class StorageURLError(ConfigurationError):
    """EDITBENCH_STORE_URL names something editbench cannot store images in."""


@dataclass(frozen=True)
class StorageSettings:
    home: Path
    url: str | None  # None: the local folder EDITBENCH_HOME
    endpoint_url: str | None
    cache_max_bytes: int

    @classmethod
    def from_env(cls) -> StorageSettings:
        settings = load_settings()
        home, url = settings.home, settings.store_url
        if url is not None:
            protocol = url.split("://", 1)[0] if "://" in url else "file"
            if protocol not in SUPPORTED:
                raise StorageURLError(
                    f"{STORE_URL_ENV}={redact(url)}: unsupported scheme {protocol!r} (use a local folder or s3://bucket/prefix)"
                )
            if protocol == "s3" and not url[len("s3://") :].strip("/"):
                raise StorageURLError(f"{STORE_URL_ENV}={redact(url)}: name a bucket, e.g. s3://my-bucket/editbench")
            if "@" in url.split("://", 1)[-1].split("/", 1)[0]:
                raise StorageURLError(
                    f"{STORE_URL_ENV}={redact(url)}: put credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, not in the URL"
                )
        max_bytes = int(settings.store_cache_mb * 1024**2)
        return cls(home=home, url=url, endpoint_url=settings.s3_endpoint_url, cache_max_bytes=max_bytes)

    @property
    def is_remote(self) -> bool:
        return self.url is not None and self.url.startswith("s3://")

    @property
    def cache_dir(self) -> Path:
        """This host's bounded read cache (only used when the storage is remote)."""
        return self.home / "cache" / "objects"

    def describe(self) -> str:
        """One line for logs and status: where images live, with any credential masked."""
        if not self.url:
            return f"local folder {self.home}"
        if not self.is_remote:
            return f"local folder {Path(self.url.removeprefix('file://')).expanduser()}"
        endpoint = f" via {redact(self.endpoint_url)}" if self.endpoint_url else ""
        return f"{redact(self.url)}{endpoint}"
