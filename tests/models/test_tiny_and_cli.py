"""Building tiny models (cached, crash-safe) and the ``editbench models`` commands."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from editbench.cli.models import models_group
from editbench.models.tiny import MARKER_NAME, build_tiny_models, is_complete


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_tiny_models_are_small_complete_and_load_with_from_pretrained(tiny_models) -> None:
    from diffusers import QwenImageEditPipeline
    from transformers import AutoProcessor, Qwen3VLForConditionalGeneration

    assert is_complete(tiny_models.editor) and is_complete(tiny_models.judge)
    assert _folder_bytes(tiny_models.editor) < 5_000_000 and _folder_bytes(tiny_models.judge) < 2_000_000
    pipe = QwenImageEditPipeline.from_pretrained(tiny_models.editor, local_files_only=True)
    assert pipe.vae_scale_factor == 8  # the real model's spatial factor
    processor = AutoProcessor.from_pretrained(tiny_models.judge, local_files_only=True)
    model = Qwen3VLForConditionalGeneration.from_pretrained(tiny_models.judge, local_files_only=True)
    # Qwen tokenizer properties the adapters rely on: one token per digit, Qwen special tokens.
    assert [len(processor.tokenizer.encode(str(d), add_special_tokens=False)) for d in range(10)] == [1] * 10
    assert model.config.image_token_id == processor.tokenizer.convert_tokens_to_ids("<|image_pad|>")


def test_a_complete_build_is_reused_without_touching_it(tiny_models) -> None:
    marker = tiny_models.editor / MARKER_NAME
    before = marker.stat().st_mtime_ns
    started = time.perf_counter()
    again = build_tiny_models(tiny_models.root)
    assert time.perf_counter() - started < 0.5
    assert again == tiny_models and marker.stat().st_mtime_ns == before


def test_a_folder_not_built_by_editbench_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "editor").mkdir()
    (tmp_path / "editor" / "weights.bin").write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        build_tiny_models(tmp_path)
    assert (tmp_path / "editor" / "weights.bin").read_bytes() == b"precious"
    assert not any(p.name.startswith(".editor-") for p in tmp_path.iterdir())  # no temp left behind


def test_cli_tiny_prints_paths_and_is_a_no_op_when_present(tiny_models) -> None:
    runner = CliRunner()
    result = runner.invoke(models_group, ["tiny", str(tiny_models.root), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"editor": str(tiny_models.editor), "judge": str(tiny_models.judge)}
    plain = runner.invoke(models_group, ["tiny", str(tiny_models.root)])
    assert f"editor: {tiny_models.editor}" in plain.output


def test_cli_list_shows_registered_adapters() -> None:
    result = CliRunner().invoke(models_group, ["list"])
    assert result.exit_code == 0, result.output
    assert "qwen-image-edit-plus" in result.output and "precomputed" in result.output and "qwen3-vl" in result.output
