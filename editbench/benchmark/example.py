"""A synthetic benchmark in the native format, so editbench runs end to end with no downloads.

Five categories (physics, environment, social, causal, referential) of procedurally drawn scenes
with matching instructions, some with reference answers, and one versioned judge rubric per
category. Everything is derived from ``seed``, so the same call always writes byte-identical
files and therefore the same content hash.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from editbench.benchmark import example_scenes as scenes

EXAMPLE_NAME = "editbench-example"
EXAMPLE_VERSION = "1.0"
SIZES = ((128, 128), (160, 120), (120, 160), (144, 112))
"""Mixed sizes and aspect ratios on purpose, so batching and resizing code sees them."""


@dataclass(frozen=True)
class _Template:
    scene: scenes.Scene
    instruction: str
    reference: str | None = None
    subcategory: str | None = None


_PHYSICS = (
    _Template(
        scenes.table_with("glass"),
        "Show the glass after it falls off the table",
        "The glass lies broken on the floor beside the table, with water spilled around it.",
        "gravity",
    ),
    _Template(
        scenes.table_with("ball"),
        "Show the ball half a second after it rolls off the right edge of the table",
        "The ball is in the air to the right of the table, below the tabletop, falling toward the floor.",
        "gravity",
    ),
    _Template(
        scenes.table_with("blocks"),
        "Show the tower after the bottom block is pulled out quickly",
        "The upper blocks have dropped or toppled; the tower is lower or its blocks lie scattered.",
        "rigid_bodies",
    ),
    _Template(
        scenes.table_with("ice"),
        "Show the ice cube after it has sat in a warm room for two hours",
        "The ice is gone; a flat puddle of water lies on the plate.",
        "phase_change",
    ),
    _Template(
        scenes.balloon,
        "Show the balloon a moment after its string is cut",
        "The balloon has risen higher, with the cut string hanging below it; the weight stays on the ground.",
        "buoyancy",
    ),
    _Template(
        scenes.seesaw,
        "Put a much heavier box on the right end of the seesaw",
        "A large box sits on the right end, which is now down; the left end with the small box is raised.",
        "balance",
    ),
    _Template(
        scenes.table_with("glass"),
        "Tilt the glass of water 30 degrees to the right without spilling it",
        "The glass is tilted but the water surface inside it stays horizontal.",
        "liquids",
    ),
    _Template(scenes.pendulum, "Show the pendulum at the far end of its swing", None, "motion"),
)

_ENVIRONMENT = (
    _Template(
        scenes.landscape,
        "Make it winter",
        "Snow covers the ground, the roof and the tree; the tree is bare; the sky is pale.",
        "season",
    ),
    _Template(
        scenes.landscape,
        "Make it night",
        "The sky is dark with a moon and stars instead of the sun; the window is lit.",
        "time_of_day",
    ),
    _Template(scenes.landscape, "Make it rain heavily", None, "weather"),
    _Template(scenes.landscape, "Add thick morning fog", None, "weather"),
    _Template(scenes.landscape, "Make it autumn", "The tree's leaves are orange and red and some lie on the grass.", "season"),
    _Template(
        scenes.landscape,
        "Show the same scene at sunset",
        "The sun is low near the horizon and the sky is orange and pink; shadows are long.",
        "time_of_day",
    ),
    _Template(scenes.landscape, "Turn the meadow into a desert", None, "climate"),
    _Template(scenes.landscape, "Flood the ground with water up to the bottom of the door", None, "weather"),
)

_SOCIAL = (
    _Template(
        scenes.people((1.0, 1.0)),
        "Make the two people shake hands",
        "The two people stand close and their hands are joined between them.",
        "greeting",
    ),
    _Template(
        scenes.people((1.0, 1.0)),
        "Make the person on the left wave at the person on the right",
        "The left person raises one arm toward the right person; the right person is unchanged.",
        "greeting",
    ),
    _Template(
        scenes.people((1.0, 1.0), gift=True),
        "Show the person on the left giving the gift to the person on the right",
        "The gift is between them, held out by the left person and taken by the right person.",
        "exchange",
    ),
    _Template(scenes.people((1.0, 0.95, 1.05)), "Make the three people stand in a queue one behind the other", None, "group"),
    _Template(scenes.people((1.0, 1.0), table=True), "Make the two people sit at the table facing each other", None, "group"),
    _Template(
        scenes.people((1.0, 0.55)),
        "Make the child hold the adult's hand",
        "The small figure and the tall figure stand side by side with their hands joined.",
        "family",
    ),
    _Template(
        scenes.people((1.0, 0.9, 1.0, 0.95)),
        "Make the group cheer with their arms raised",
        "All four people raise both arms above their heads.",
        "group",
    ),
    _Template(scenes.people((1.0, 1.0)), "Make the two people hug", None, "greeting"),
)

_CAUSAL = (
    _Template(
        scenes.table_with("candle"),
        "Show what happens after the candle burns for an hour",
        "The candle is noticeably shorter, with melted wax pooled at its base; the flame still burns.",
        "time",
    ),
    _Template(
        scenes.table_with("plant"),
        "Show the plant after two weeks without water",
        "The plant droops, with brown, wilted leaves.",
        "time",
    ),
    _Template(
        scenes.table_with("apple"),
        "Show the apple after someone takes two bites from it",
        "Two bite marks in the apple show its pale flesh.",
        "action",
    ),
    _Template(
        scenes.table_with("bread"),
        "Show the bread after it has been toasted",
        "The slice is golden brown, darker at the edges.",
        "action",
    ),
    _Template(
        scenes.table_with("ice_cream"),
        "Show the ice cream after ten minutes in the hot sun",
        "The ice cream has melted and drips down the cone onto the table.",
        "time",
    ),
    _Template(scenes.landscape, "Show the window after a baseball hits it", None, "action"),
    _Template(
        scenes.landscape,
        "Show the tree after it is struck by lightning",
        "The trunk is split and charred and some branches have fallen.",
        "action",
    ),
    _Template(
        scenes.beach,
        "Show the sandcastle after a big wave washes over it",
        "The sandcastle is flattened into a low, wet mound of sand.",
        "action",
    ),
)

_REFERENTIAL = (
    _Template(
        scenes.shapes((("square", "red", 1.0), ("circle", "blue", 1.0), ("square", "red", 1.0))),
        "Remove the red square on the left",
        "Only the left red square is gone; the blue circle and the right red square are unchanged.",
        "position",
    ),
    _Template(
        scenes.shapes((("circle", "green", 0.6), ("circle", "green", 1.0), ("circle", "green", 0.8))),
        "Make the largest circle blue",
        "The middle circle is blue; the other two stay green.",
        "size",
    ),
    _Template(
        scenes.shapes((("triangle", "green", 1.0), ("triangle", "yellow", 1.0), ("square", "blue", 0.8))),
        "Move the green triangle to the right of the yellow triangle",
        None,
        "position",
    ),
    _Template(
        scenes.shapes((("circle", "red", 1.0), ("square", "blue", 1.0), ("triangle", "green", 1.0), ("circle", "yellow", 1.0))),
        "Remove the second shape from the right",
        "The green triangle is removed; the red circle, blue square and yellow circle remain.",
        "position",
    ),
    _Template(
        scenes.shapes((("square", "orange", 1.0), ("circle", "orange", 1.0), ("square", "orange", 1.0))),
        "Change the colour of the only circle to purple",
        "The middle shape, the circle, is purple.",
        "shape",
    ),
    _Template(
        scenes.shapes((("square", "red", 1.0), ("square", "blue", 1.0))),
        "Swap the positions of the red and blue squares",
        "The blue square is on the left, the red on the right.",
        "position",
    ),
    _Template(
        scenes.shapes((("circle", "blue", 1.0), ("square", "yellow", 0.45), ("triangle", "red", 0.9))),
        "Make the smallest shape twice as big",
        None,
        "size",
    ),
    _Template(
        scenes.shapes((("square", "red", 0.9), ("circle", "green", 0.9), ("triangle", "red", 0.9), ("square", "blue", 0.9))),
        "Delete every shape that is not red",
        "Only the red square and the red triangle remain.",
        "colour",
    ),
)

CATEGORIES: dict[str, tuple[str, tuple[_Template, ...]]] = {
    "physics": ("Edits whose correct result follows from physical laws.", _PHYSICS),
    "environment": ("Changes of season, weather, time of day or climate that keep the scene.", _ENVIRONMENT),
    "social": ("Interactions between people: gestures, exchanges, group poses.", _SOCIAL),
    "causal": ("Show the consequence of an action or of time passing.", _CAUSAL),
    "referential": ("Edit one object picked out by colour, shape, size or position.", _REFERENTIAL),
}
KNOWLEDGE_CATEGORIES = ("physics", "causal")
"""Categories also scored on plausibility, judged against the reference answer (KRIS-style)."""


def write_example_benchmark(dest: Path, per_category: int = 8, seed: int = 0, *, overwrite: bool = False) -> Path:
    """Write the example benchmark into ``dest`` and return ``dest``.

    With more than 8 items per category the scenes repeat with different random layouts and
    sizes. Refuses a non-empty ``dest`` unless ``overwrite`` is set, so it never mixes with (or
    silently clobbers) someone's own benchmark.
    """
    if per_category < 1:
        raise ValueError(f"per_category must be >= 1, got {per_category}")
    dest = Path(dest)
    _prepare(dest, overwrite)
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for category, (_description, templates) in CATEGORIES.items():
        _copy_prompt(dest, category)
        for index in range(per_category):
            records.append(_write_item(dest, category, index, templates, rng))
    (dest / "benchmark.yaml").write_text(_manifest_text(), encoding="utf-8")
    lines = (json.dumps(record, ensure_ascii=False) for record in records)
    (dest / "items.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


def _prepare(dest: Path, overwrite: bool) -> None:
    if dest.exists() and not dest.is_dir():
        raise FileExistsError(f"{dest} exists and is not a folder; choose a new or empty folder")
    if dest.exists() and any(dest.iterdir()):
        if not overwrite:
            # The message is for the person at the command line, who has no overwrite flag.
            raise FileExistsError(f"{dest} is not empty; choose a new or empty folder (the example never writes over other files)")
        for name in ("images", "prompts"):
            shutil.rmtree(dest / name, ignore_errors=True)
    (dest / "images").mkdir(parents=True, exist_ok=True)
    (dest / "prompts").mkdir(parents=True, exist_ok=True)


def _write_item(dest: Path, category: str, index: int, templates: tuple[_Template, ...], rng: random.Random) -> dict[str, Any]:
    template = templates[index % len(templates)]
    size = SIZES[rng.randrange(len(SIZES))]
    image = scenes.render(size, rng, template.scene)
    relative = f"images/{category}/{index:03d}.png"
    (dest / relative).parent.mkdir(parents=True, exist_ok=True)
    image.save(dest / relative, format="PNG")
    record: dict[str, Any] = {
        "id": f"{category}/{index:03d}",
        "category": category,
        "subcategory": template.subcategory,
        "instruction": template.instruction,
        "instruction_language": "en",
        "source_image": relative,
        "tags": ["synthetic", f"{size[0]}x{size[1]}"],
        "source": {"generator": "editbench.benchmark.example", "template": index % len(templates)},
    }
    if template.reference is not None:
        record["reference_text"] = template.reference
    return record


def _copy_prompt(dest: Path, category: str) -> None:
    text = resources.files("editbench.benchmark").joinpath("prompts", "example", f"{category}.v1.txt").read_bytes()
    (dest / "prompts" / f"{category}.v1.txt").write_bytes(text)


def _manifest_text() -> str:
    criteria = [
        {"name": "semantic_consistency", "description": "Does the edit do what the instruction asks, and only that?"},
        {"name": "perceptual_quality", "description": "Does the edited image look natural and free of artifacts?"},
        {
            "name": "plausibility",
            "description": "Is the result consistent with real-world knowledge and the reference answer?",
        },
    ]
    categories = []
    for name, (description, _templates) in CATEGORIES.items():
        entry: dict[str, Any] = {"name": name, "description": description, "prompt": f"prompts/{name}.v1.txt"}
        if name in KNOWLEDGE_CATEGORIES:
            entry["weights"] = {"semantic_consistency": 2, "perceptual_quality": 1, "plausibility": 2}
            entry["pass_rule"] = {"all_at_least": 8}
        else:
            entry["criteria"] = ["semantic_consistency", "perceptual_quality"]
        categories.append(entry)
    manifest = {
        "name": EXAMPLE_NAME,
        "version": EXAMPLE_VERSION,
        "description": "Synthetic, procedurally drawn scenes for smoke tests and demos; not for comparing models.",
        "score_scale": {"min": 0, "max": 10},
        "criteria": criteria,
        "overall": "geometric_mean",
        "categories": categories,
    }
    header = "# Written by editbench.benchmark.example.write_example_benchmark; see docs/benchmark-format.md\n"
    body: str = yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=100)
    return header + body
