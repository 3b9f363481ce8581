"""An S3-compatible server for tests and benchmarks: moto's standalone server, as a process of
its own bound to one address (127.0.0.1, or a veth address inside a test's namespaces)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

ACCESS_KEY = "editbench-test-key"
SECRET_KEY = "editbench-test-secret-d0-not-log"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class S3Server:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None, log: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self, bucket: str, prefix: str = "editbench") -> dict[str, str]:
        """What a worker needs to use this server as EDITBENCH_STORE_URL."""
        return {
            "EDITBENCH_STORE_URL": f"s3://{bucket}/{prefix}",
            "EDITBENCH_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def start(self, timeout_s: float = 30) -> S3Server:
        out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", self.host, "-p", str(self.port)], stdout=out, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=0.3):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"moto server exited with {self.process.returncode}") from None
                time.sleep(0.1)
        raise TimeoutError(f"moto server not listening on {self.endpoint}")

    def create_bucket(self, bucket: str) -> None:
        self.client().create_bucket(Bucket=bucket)

    def client(self):
        import boto3

        return boto3.client(
            "s3", endpoint_url=self.endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
        )

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        return sorted(o["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix) for o in page.get("Contents", []))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None
