"""Shared fixtures for model-adapter tests: tiny real models, built once per session."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from editbench.models.tiny import TinyModelPaths, build_tiny_models


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModelPaths:
    """Tiny Qwen editor and judge folders, built once per session (~5 s).

    Reused across sessions from ``$EDITBENCH_TEST_MODELS`` (the folder the top-level conftest
    uses too, so one build serves both) or ``$EDITBENCH_HOME/tiny-models``; else a temp dir.
    """
    cache = os.environ.get("EDITBENCH_TEST_MODELS")
    home = os.environ.get("EDITBENCH_HOME")
    if cache:
        root = Path(cache)
    elif home:
        root = Path(home) / "tiny-models"
    else:
        root = tmp_path_factory.mktemp("models") / "tiny"
    return build_tiny_models(root)


def _noise_image(width: int, height: int, seed: int = 0) -> Image.Image:
    pixels = np.random.RandomState(seed).randint(0, 256, size=(height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


@pytest.fixture
def noise_image() -> Callable[..., Image.Image]:
    """``noise_image(width, height, seed)``: deterministic RGB noise (flat images hide resizing
    and batching bugs)."""
    return _noise_image
