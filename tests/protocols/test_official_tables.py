"""editbench's official aggregations agree with the official scripts on the same judge answers.

The fixture answers (fixtures/generate.py, our own numbers) were fed to each official script
locally (docs/importers.md, "Verified against the official scripts"); the files next to them hold
what the scripts printed or wrote. These tests recompute every table from the raw answers with
editbench's parsers and aggregation and compare, to the scripts' own rounding.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from editbench.protocols import PROTOCOLS, gedit, imgedit, kris, rise
from tests.protocols.conftest import FIXTURES


def _close(ours: float | None, theirs: float | None, places: int | None = None) -> bool:
    if theirs is None or (isinstance(theirs, float) and math.isnan(theirs)):
        return ours is None
    if ours is None:
        return False
    if places is None:
        return math.isclose(ours, theirs, rel_tol=1e-12, abs_tol=1e-12)
    return round(ours, places) == pytest.approx(theirs, abs=10**-places / 2 + 1e-12)


# --- GEdit-Bench: calculate_statistics.py ----------------------------------------------------


def gedit_samples() -> list[gedit.GeditSample]:
    records = json.loads((FIXTURES / "gedit" / "answers.json").read_text())
    samples = [
        gedit.sample_from_answers(
            r["key"], r["task_type"], r["instruction_language"], r["intersection_exist"], r["sc_answer"], r["pq_answer"]
        )
        for r in records
    ]
    assert all(s is not None for s in samples)
    return samples  # type: ignore[return-value]


def printed_statistics(language: str) -> dict[str, dict[str, tuple[float, float, float]]]:
    """calculate_statistics.py's printout: 11 task types + Average, then the intersection block."""
    lines = (FIXTURES / "gedit" / f"calculate_statistics.{language}.txt").read_text().splitlines()
    assert len(lines) == 24
    blocks: dict[str, dict[str, tuple[float, float, float]]] = {"fullset": {}, "intersection": {}}
    for n, line in enumerate(lines):
        group, values = line.split(": ")
        group = "Average" if group.startswith("Average") else group
        blocks["fullset" if n < 12 else "intersection"][group] = tuple(float(v) for v in values.split(", "))  # type: ignore[assignment]
    return blocks


@pytest.mark.parametrize("language", ["en", "cn"])
def test_gedit_table_matches_calculate_statistics_for_each_language_and_subset(language):
    table = gedit.aggregate(gedit_samples())
    official = printed_statistics(language)
    for subset, rows in official.items():
        section = f"{language}/{subset}"
        assert [row.group for row in table.sections[section]] == [*gedit.GROUPS, "Average"]
        for group, values in rows.items():
            for column, theirs in zip(("SC", "PQ", "O"), values, strict=True):
                assert _close(table.value(section, group, column), theirs, places=3), (section, group, column)


def test_gedit_overall_is_the_mean_of_per_item_geometric_means_not_of_the_means():
    samples = gedit_samples()
    table = gedit.aggregate(samples)
    color = [s for s in samples if s.task_type == "color_alter" and s.language == "en"]
    per_item = sum(math.sqrt(s.sc * s.pq) for s in color) / len(color)
    of_means = math.sqrt(sum(s.sc for s in color) / len(color) * sum(s.pq for s in color) / len(color))
    assert table.value("en/fullset", "color_alter", "O") == pytest.approx(per_item)
    assert per_item != pytest.approx(of_means)


def test_gedit_sc_is_the_lowest_sub_score_of_the_answer():
    sample = gedit.sample_from_answers("k", "color_alter", "en", True, '{"score": [9, 3], "reasoning": "x"}', "[7, 8]")
    assert (sample.sc, sample.pq) == (3.0, 7.0)
    assert gedit.sample_from_answers("k", "color_alter", "en", True, "no score here", "[7, 8]") is None


# --- RISEBench: gpt_eval.py ----------------------------------------------------------------


def rise_samples(data_file: str) -> list[rise.RiseSample]:
    rows = json.loads((FIXTURES / "rise" / data_file).read_text())
    judgments = json.loads((FIXTURES / "rise" / "judgments.json").read_text())
    return [
        rise.RiseSample(
            index=row["index"],
            category=row["category"],
            judge1=judgments[row["index"]]["judge1"],
            judge2=judgments[row["index"]]["judge2"],
            judge3=judgments[row["index"]].get("judge3"),
            subtask=row.get("subtask"),
            consistency_free=row.get("consistency_free"),
            fields=frozenset(row),
        )
        for row in rows
    ]


@pytest.mark.parametrize("data_file", ["data.json", "data_plain.json"])
def test_rise_table_matches_gpt_eval_csv(data_file):
    table = rise.aggregate(rise_samples(data_file))
    with (FIXTURES / "rise" / f"gpt_eval.{Path(data_file).stem}.csv").open() as handle:
        official = list(csv.DictReader(handle))
    assert [row.group for row in table.sections["scores"]] == [row["-"] for row in official]
    for row in official:
        for column in rise.COLUMNS:
            theirs = float(row[column]) if row[column] else None
            assert _close(table.value("scores", row["-"], column), theirs), (row["-"], column)


def test_rise_consistency_free_samples_pass_without_a_consistency_score():
    sample = rise.RiseSample(
        "t1", "temporal_reasoning", None, "Final Score: 5", "Final Score: 5", consistency_free=True, fields=frozenset({"consistency_free"})
    )
    scores = rise.score_sample(sample, consistency_free_column=True)
    assert scores.consistency is None and scores.complete == 1
    assert scores.score == pytest.approx(5.0)


def test_rise_field_in_the_file_makes_gpt_eval_score_every_sample_without_consistency():
    # A sample with consistency 1 and full marks elsewhere: with the column present, gpt_eval.py
    # weighs 0.2*plausibility + 0.8*reasoning (NaN is truthy); without it, 0.3/0.5/0.2.
    sample = rise.RiseSample("c1", "causal_reasoning", "Final Score: 1", "Final Score: 5", "Final Score: 5")
    assert rise.score_sample(sample, consistency_free_column=True).score == pytest.approx(5.0)
    assert rise.score_sample(sample, consistency_free_column=False).score == pytest.approx(3.8)
    assert rise.score_sample(sample, consistency_free_column=True).complete == 0


# --- ImgEdit: step1_get_avgscore.py + step2_typescore.py ------------------------------------


def test_imgedit_item_scores_match_step1():
    result = json.loads((FIXTURES / "imgedit" / "result.json").read_text())
    step1 = json.loads((FIXTURES / "imgedit" / "step1_average_score.json").read_text())
    ours = {key: imgedit.parse_answer(answer) for key, answer in result.items()}
    assert {key: value for key, value in ours.items() if value is not None} == step1


def test_imgedit_type_scores_match_step2():
    result = json.loads((FIXTURES / "imgedit" / "result.json").read_text())
    meta = json.loads((FIXTURES / "imgedit" / "basic_edit.json").read_text())
    step2 = json.loads((FIXTURES / "imgedit" / "step2_typescore.json").read_text())
    table = imgedit.aggregate(imgedit.samples_from_result(result, meta))
    rows = {row.group: row.values["score"] for row in table.sections["edit_types"] if row.group != "Overall"}
    assert rows == step2
    assert list(rows) == list(step2)
    assert table.value("edit_types", "Overall", "score") == pytest.approx(sum(step2.values()) / len(step2))


# --- KRIS-Bench: the metrics.json its scripts write ----------------------------------------


def test_kris_parsers_read_answers_as_the_official_scripts_wrote_them_into_metrics_json():
    answers = json.loads((FIXTURES / "kris" / "answers.json").read_text())
    ours = sorted(
        (
            kris.sample_from_answers(category, sample_id, record)
            for category, records in answers.items()
            for sample_id, record in records.items()
        ),
        key=lambda s: (s.category, s.id),
    )
    official = sorted(kris.samples_from_metrics(FIXTURES / "kris" / "results" / "fixture"), key=lambda s: (s.category, s.id))
    assert ours == official
    assert kris.aggregate(ours).to_json() == kris.aggregate(official).to_json()


def test_kris_table_has_dimensions_per_category_and_knowledge_type():
    samples = kris.samples_from_metrics(FIXTURES / "kris" / "results" / "fixture")
    table = kris.aggregate(samples)
    physics = [s for s in samples if s.category == "physics"]
    expected = sum(s.knowledge_plausibility for s in physics) / len(physics)
    assert table.value("categories", "physics", "knowledge_plausibility") == pytest.approx(expected)
    assert table.value("categories", "color_change", "knowledge_plausibility") is None
    conceptual = [s for s in samples if s.category in ("physics", "chemistry", "humanities")]
    expected_vc = sum(s.visual_consistency for s in conceptual) / len(conceptual)
    assert table.value("knowledge_types", "Conceptual Knowledge", "visual_consistency") == pytest.approx(expected_vc)
    assert table.value("knowledge_types", "Conceptual Knowledge", "visual_consistency_100") == pytest.approx((expected_vc - 1) * 25)
    assert [r.group for r in table.sections["knowledge_types"]] == [*kris.TAXONOMY, "Overall"]


def test_kris_knowledge_categories_read_a_colonless_label_as_metrics_knowledge_does():
    answer = "Rated 2 on detail; consistency score 4"
    assert kris.parse_score(answer, "consistency_score") == 4
    assert kris.parse_score(answer, "consistency_score", knowledge_script=True) == 2


def test_every_protocol_exposes_its_aggregation():
    assert set(PROTOCOLS) == {"gedit", "kris", "rise", "imgedit"}
    assert all(callable(p.aggregate) and callable(p.load) for p in PROTOCOLS.values())
