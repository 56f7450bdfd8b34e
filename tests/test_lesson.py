"""Lesson mode's data (explorer.lesson): every section and exercise, presets a link can carry, links."""

from __future__ import annotations

from urllib.parse import parse_qsl

import pytest

from explorer import lesson
from explorer.messages import LANGUAGES, catalog, render
from explorer.ui import links
from explorer.ui.tabs import TAB_IDS

SECTIONS = [f"3.{n}" for n in range(1, 10)]
EXERCISES = [f"q{n}" for n in range(1, 6)]


def test_the_lesson_covers_every_section_then_every_exercise_in_order():
    assert lesson.IDS == (*SECTIONS, *EXERCISES)


@pytest.mark.parametrize("step", lesson.STEPS, ids=lesson.IDS)
def test_each_step_opens_a_tab_that_exists_with_a_preset_a_link_carries(step):
    assert step.tab in TAB_IDS
    parsed = links.parse(dict(parse_qsl(lesson.query(step))), TAB_IDS, set())
    assert parsed.tab == step.tab
    assert parsed.values == step.preset  # every preset field survives the link parser, none is dropped


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_step_has_its_four_texts_and_a_card_in_both_languages(language):
    for step in lesson.STEPS:
        for part in lesson.PARTS:
            assert step.msg(part).key in catalog(language)
        card = render(lesson.card(step), language)
        assert render(step.msg("question"), language) in card
        assert "{" not in card


def test_steps_are_found_by_their_link_id_and_by_the_exercise_name():
    assert lesson.find("3.2").tab == "step"
    assert lesson.find(" Q5 ").id == "q5"
    assert lesson.find("問題5").id == "q5"
    assert lesson.find("3.10") is None and lesson.find(None) is None and lesson.find("<script>") is None


def test_previous_and_next_stop_at_the_ends():
    assert lesson.neighbour("3.1", -1) == "3.1"
    assert lesson.neighbour("3.1", 1) == "3.2"
    assert lesson.neighbour("3.9", 1) == "q1"
    assert lesson.neighbour("q5", 1) == "q5"
    assert lesson.neighbour(None, 1) == "3.2"  # no step yet counts as the first


def test_a_step_link_is_relative_and_names_the_step_and_language():
    assert lesson.link(lesson.find("3.2"), "ja") == "?lesson=3.2&lang=ja"


def test_the_in_page_link_changes_each_time_so_a_step_can_be_opened_again():
    step = lesson.find("3.4")
    assert lesson.query(step) != lesson.query(step)
    assert "at=" not in lesson.query(step, stamp=False)


def test_an_unknown_part_is_refused():
    with pytest.raises(ValueError):
        lesson.STEPS[0].msg("answer")
