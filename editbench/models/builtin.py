"""Import every built-in adapter so that its ``@register_editor``/``@register_judge`` runs.

Adding an adapter: write one module in this package and add its import here.
"""

from editbench.models import (  # noqa: F401
    baselines,
    openai_images,
    openai_judge,
    qwen3_vl,
    qwen_image_edit,
    simulated,
)
