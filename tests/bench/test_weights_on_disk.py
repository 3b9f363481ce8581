"""bench/weights_on_disk.py writes folders the adapters load without ``capacity`` (the real
``from_pretrained`` path), holding the very weights capacity mode builds (CPU, tiny sizes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from editbench.models import Criterion, EditRequest, JudgePrompt, JudgeRequest, load_editor, load_judge

ROOT = Path(__file__).resolve().parents[2]
FAST = {"steps": "2", "working_area": "64*64", "true_cfg_scale": "1"}


def _image(width: int, height: int, seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def test_written_folders_load_through_from_pretrained_and_match_capacity_mode(tmp_path: Path) -> None:
    out = tmp_path / "models"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDITBENCH_")} | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "bench/weights_on_disk.py", "--size", "tiny", "--out", str(out), "--json", str(tmp_path / "w.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "w.json").read_text())
    assert report["dtype"] == "float32" and report["device"] == "cpu"
    for role in ("editor", "judge"):
        assert report[role]["disk_bytes"] >= report[role]["weights_bytes"] > 0 and report[role]["save_s"] > 0
    editor_dir, judge_dir = out / "editor", out / "judge"
    assert {"model_index.json", "transformer", "text_encoder", "vae", "scheduler", "tokenizer", "processor"} <= {
        p.name for p in editor_dir.iterdir()
    }
    assert list(editor_dir.glob("transformer/*.safetensors")) and list(judge_dir.glob("*.safetensors"))

    # The real loading path: no capacity, the weights come from the folders.
    editor = load_editor("qwen-image-edit", str(editor_dir), **FAST)
    assert editor.identity()["capacity"] is None and "capacity_planning" not in editor.identity()
    request = EditRequest("s1", _image(64, 64, 1), "Make the sky blue.", seed=5)
    edited = editor.edit(request)
    # The same weights a capacity run builds (same builders, seed and token ids): the same image.
    capacity_editor = load_editor("qwen-image-edit", str(out / ".tiny" / "editor"), capacity="tiny", **FAST)
    assert np.array_equal(np.asarray(edited), np.asarray(capacity_editor.edit(request)))

    judge = load_judge("qwen3-vl", str(judge_dir), mode="logits")
    assert judge.identity()["capacity"] is None
    judge_request = JudgeRequest(
        key="k",
        source_image=_image(64, 64, 2),
        edited_image=edited,
        instruction="Make the sky blue.",
        prompt=JudgePrompt("Instruction: {instruction}\nScore {criterion} from {scale_min} to {scale_max}.", version="v1"),
        criteria=(Criterion("semantic_consistency", "Does it?"),),
    )
    (result,) = judge.score([judge_request])
    (score,) = result.scores
    assert score.score is not None
    capacity_judge = load_judge("qwen3-vl", str(out / ".tiny" / "judge"), mode="logits", capacity="tiny")
    assert capacity_judge.score([judge_request])[0].scores[0].score == score.score

    # bench/load_paths.py loads each folder both ways (host copy, then load_on_device) with the
    # page cache evicted, and finds the same weights (on the CPU load_on_device changes nothing).
    done = subprocess.run(
        [sys.executable, "bench/load_paths.py", "--editor", str(editor_dir), "--judge", str(judge_dir), "--device", "cpu"]
        + ["--json", str(tmp_path / "loads.json")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    loads = json.loads((tmp_path / "loads.json").read_text())["runs"]
    assert [(r["role"], r["load_on_device"]) for r in loads] == [("editor", False), ("editor", True), ("judge", False), ("judge", True)]
    assert all(r["evicted_bytes"] > 0 and r["wall_s"] > 0 and "build" in r["parts_s"] for r in loads)
    assert loads[0]["checksum"] == loads[1]["checksum"] and loads[2]["checksum"] == loads[3]["checksum"]
