"""editbench's own adapters: kind → ``module:factory``, exactly as declared in ``pyproject.toml``.

Built-in adapters are found through the same entry points as third-party ones
(``[project.entry-points."editbench.editors"]`` / ``"editbench.judges"``). This table is the
fallback for when editbench's *installed* metadata lags behind the code on the path (a source
checkout on ``PYTHONPATH``, an editable install made before an adapter was added): the registry
fills the gap from it and says so (``editbench models list`` prints the note). A test checks it
equals pyproject's entry points.

Adding a built-in adapter: one module in this package, one line here and one in pyproject.toml.
"""

from __future__ import annotations

BUILTIN_EDITORS: dict[str, str] = {
    "diffusers": "editbench.models.diffusers_editor:open_diffusers_editor",
    "identity": "editbench.models.baselines:IdentityEditor",
    "openai-images": "editbench.models.openai_images:OpenAIImagesEditor",
    "precomputed": "editbench.models.baselines:PrecomputedEditor",
    "qwen-image-edit": "editbench.models.qwen_image_edit:QwenImageEditor",
    "qwen-image-edit-plus": "editbench.models.qwen_image_edit:QwenImageEditPlusEditor",
    "simulated": "editbench.models.simulated:SimulatedEditor",
}

BUILTIN_JUDGES: dict[str, str] = {
    "openai": "editbench.models.openai_judge:OpenAIJudge",
    "qwen3-vl": "editbench.models.qwen3_vl:Qwen3VLJudge",
    "simulated": "editbench.models.simulated:SimulatedJudge",
}

BUILTIN_ADAPTERS: dict[str, dict[str, str]] = {"editor": BUILTIN_EDITORS, "judge": BUILTIN_JUDGES}
