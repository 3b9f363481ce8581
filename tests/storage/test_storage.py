"""The storage layer on a local folder and on a real S3-compatible server (moto, 127.0.0.1)."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest
from PIL import Image

from editbench.storage import (
    ReadCache,
    Storage,
    StorageSettings,
    StorageURLError,
    open_storage,
)
from editbench.storage.configured import reset
from tests.storage.s3server import SECRET_KEY


def _png(color: tuple[int, int, int], size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buffer, "PNG")
    return buffer.getvalue()


def _never_partial(storage: Storage, key: str, payload: bytes) -> list[int]:
    """Write ``payload`` under ``key`` (over an older, different object) while a reader polls
    it; return the lengths of every read that was neither the old nor the new object."""
    old = b"x" * 1000
    storage.write_bytes(key, old)
    torn: list[int] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                data = storage.read_bytes(key)
            except FileNotFoundError:
                torn.append(-1)  # the key must never disappear either
                continue
            if data != old and data != payload:
                torn.append(len(data))

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for _ in range(3):
            storage.write_bytes(key, payload)
            storage.write_bytes(key, old)
    finally:
        done.set()
        thread.join()
    return torn


def test_a_local_write_is_never_seen_half_written(tmp_path: Path) -> None:
    storage = Storage.local(tmp_path / "root")
    assert _never_partial(storage, "artifacts/run-1/1.png", os.urandom(8 * 1024 * 1024)) == []
    assert sorted(p.name for p in (tmp_path / "root" / "artifacts" / "run-1").iterdir()) == ["1.png"]  # no temp files left


def test_an_object_store_write_is_never_seen_half_written(s3_env) -> None:
    storage = open_storage()
    assert not storage.is_local
    assert _never_partial(storage, "artifacts/run-1/1.png", os.urandom(8 * 1024 * 1024)) == []


def test_keys_never_leave_the_root(tmp_path: Path) -> None:
    storage = Storage.local(tmp_path)
    for bad in ("../etc/passwd", "/etc/passwd", "a//b", "a/./b", ""):
        with pytest.raises(ValueError):
            storage.write_bytes(bad, b"x")


def test_without_a_store_url_images_stay_in_the_home_layout(tmp_path: Path, monkeypatch) -> None:
    from editbench.layout import image_store, write_artifact

    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EDITBENCH_STORE_URL", raising=False)
    reset()
    assert write_artifact(3, 7, b"png") == str(tmp_path / "home" / "artifacts" / "run-3" / "7.png")
    stored = image_store().put_bytes(_png((1, 2, 3)))
    assert stored.path == tmp_path / "home" / "store" / stored.sha256[:2] / f"{stored.sha256}.png"
    assert not (tmp_path / "home" / "cache" / "objects").exists()  # no cache needed locally
    reset()


def test_the_image_store_on_s3_keeps_the_same_keys_and_reads_through_the_cache(s3_env, s3_server) -> None:
    from editbench.layout import image_store

    store = image_store()
    data = _png((200, 10, 10))
    stored = store.put_bytes(data)
    assert stored.path is None and stored.location.startswith(f"s3://{s3_env['bucket']}/editbench/store/")
    assert s3_server.keys(s3_env["bucket"]) == [f"editbench/store/{stored.sha256[:2]}/{stored.sha256}.png"]
    assert stored.sha256 in store and store.put_bytes(data).location == stored.location  # stored once

    s3_server.client().delete_object(Bucket=s3_env["bucket"], Key=f"editbench/store/{stored.sha256[:2]}/{stored.sha256}.png")
    # A cache hit needs no store at all, and is right by construction (keyed by content).
    assert store.open(stored.sha256).getpixel((0, 0)) == (200, 10, 10)
    store.cache.path(stored.sha256).unlink()
    from editbench.errors import MissingImageError

    with pytest.raises(MissingImageError):
        store.open(stored.sha256)


def test_an_edited_image_on_s3_is_read_back_by_another_host_without_redis(s3_env, tmp_path, monkeypatch) -> None:
    from editbench.layout import read_location, write_artifact

    data = _png((0, 90, 0))
    location = write_artifact(5, 11, data)
    assert location == f"s3://{s3_env['bucket']}/editbench/artifacts/run-5/11.png"
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path / "other-host"))  # an empty cache
    reset()
    assert read_location(location, hashlib.sha256(data).hexdigest()) == data
    assert (tmp_path / "other-host" / "cache" / "objects").is_dir()  # admitted to that host's cache
    with pytest.raises(FileNotFoundError):
        read_location(location.replace("11.png", "12.png"))


def test_the_read_cache_is_bounded_least_recently_used_first(tmp_path: Path) -> None:
    cache = ReadCache(tmp_path / "cache", max_bytes=3000)
    blobs = [bytes([i]) * 1000 for i in range(4)]
    shas = [hashlib.sha256(b).hexdigest() for b in blobs]
    for sha, blob in zip(shas[:3], blobs[:3], strict=True):
        assert cache.put(sha, blob) is not None
    os.utime(cache.path(shas[1]), (1, 1))  # 1 is the least recently used...
    assert cache.get(shas[0]) == blobs[0]  # ...and 0 was just used
    os.utime(cache.path(shas[2]), (2, 2))
    cache.put(shas[3], blobs[3])
    assert cache.size_bytes() <= 3000
    assert cache.get(shas[1]) is None and cache.get(shas[0]) == blobs[0] and cache.get(shas[3]) == blobs[3]


def test_a_cache_hit_is_always_the_right_content(tmp_path: Path) -> None:
    cache = ReadCache(tmp_path / "cache", max_bytes=10**6)
    good = b"the real bytes"
    sha = hashlib.sha256(good).hexdigest()
    assert cache.put(sha, b"other bytes") is None  # refused: they do not hash to that name
    cache.put(sha, good)
    cache.path(sha).write_bytes(b"bit rot")  # damaged on disk
    assert cache.get(sha) is None and not cache.path(sha).exists()


def test_store_settings_refuse_bad_urls_with_one_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path))
    for url, words in [("ftp://host/x", "unsupported scheme"), ("s3://", "name a bucket"), ("s3://AKIA:secret@bucket/x", "not in the URL")]:
        monkeypatch.setenv("EDITBENCH_STORE_URL", url)
        with pytest.raises(StorageURLError, match=words) as info:
            StorageSettings.from_env()
        assert "secret" not in str(info.value)


def test_credentials_never_appear_in_the_storage_description(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("EDITBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("EDITBENCH_STORE_URL", "s3://bucket/prefix")
    monkeypatch.setenv("EDITBENCH_S3_ENDPOINT_URL", "https://admin:hunter2@minio.lab:9000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    text = StorageSettings.from_env().describe()
    assert "s3://bucket/prefix" in text and "minio.lab:9000" in text
    assert "hunter2" not in text and SECRET_KEY not in text


def test_the_cli_refuses_a_bad_store_url_with_one_line_and_no_traceback(tmp_path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "EDITBENCH_HOME": str(tmp_path), "EDITBENCH_STORE_URL": "gs://user:hunter2@bucket/x"}
    result = subprocess.run(
        [sys.executable, "-m", "editbench.cli", "benchmarks"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2  # bad input (docs/cli.md)
    assert "unsupported scheme 'gs'" in result.stderr and "Traceback" not in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    assert not (tmp_path / "editbench.db").exists()  # nothing recorded for a refused command
