"""Model menus offline (issue 16, defect 9): each entry says whether the model can run here, and after
a fallback the menu shows the model that ran, with a warning."""

from __future__ import annotations

import gradio as gr
import pytest

from explorer import models
from explorer.models import loading
from explorer.ui import i18n
from explorer.ui.common import guarded, status, with_model_menu


@pytest.fixture()
def hub_model():
    """A hub model that is not cached (the tests never reach the hub: HF_HUB_OFFLINE=1)."""
    spec = models.register_model(models.ModelSpec(name="not-here-hub", source="someone/not-cached-menu-xyz", task="sentiment"))
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    models.unload_all()


def test_availability_of_each_kind_of_model(hub_model, tiny_model, monkeypatch):
    assert models.model_availability(models.DEFAULT_MODEL) == "embedded"
    assert models.model_availability(tiny_model) == "local"
    assert models.model_availability(hub_model) == "unavailable"  # offline and not in the cache
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    assert models.model_availability(hub_model) == "download"
    monkeypatch.setattr(loading, "_in_hub_cache", lambda source: source == "someone/not-cached-menu-xyz")
    assert models.model_availability(hub_model) == "cached"


def test_a_model_that_failed_to_load_is_marked_until_it_loads(hub_model, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(loading, "hub_reachable", lambda timeout=3.0: False)
    assert models.model_availability(hub_model) == "download"
    with pytest.raises(models.loading.ModelUnavailable):
        models.load_model(hub_model)
    assert models.model_availability(hub_model) == "unavailable"
    assert i18n.model_label(hub_model, "en") == "not-here-hub (hub, not available here)"
    assert i18n.model_label(hub_model, "ja") == "not-here-hub(hub・ここでは使えません)"
    models.unload_all()  # forgets failures too (tests start clean)
    assert models.model_availability(hub_model) == "download"


def test_after_a_fallback_the_menu_shows_the_model_that_ran(hub_model):
    menu = gr.Dropdown(choices=[("a", models.DEFAULT_MODEL), ("b", "minilm-sentiment"), ("c", hub_model)])

    @guarded(2)
    def run(text, model_name):
        from explorer.present import sentiment

        result = sentiment.present(text, model_name, 0, 0)
        return status(result), result.key.model

    fn, inputs, outputs = with_model_menu((run, [gr.Textbox(), menu], [gr.Markdown(), gr.State()]), menu, "sentiment")
    assert outputs[-1] is menu and len(outputs) == 3
    with pytest.warns(UserWarning, match="could not be loaded here"):  # gr.Warning outside a request
        message, ran, update = fn("What a lovely day.", hub_model)
    assert ran == "minilm-sentiment" and "Showing the embedded model" in message
    assert update["value"] == "minilm-sentiment"
    labels = dict((value, label) for label, value in update["choices"])
    assert labels[hub_model] == "not-here-hub (hub, not available here)"
    assert labels["minilm-sentiment"].endswith("(embedded, offline)")

    _, ran, update = fn("What a lovely day.", "minilm-sentiment")  # a model that runs: the menu keeps it
    assert ran == "minilm-sentiment" and update["value"] == "minilm-sentiment"


def test_an_example_click_runs_its_tab_once_with_the_examples_model():
    """Explain and Heads carry an example's model in a hidden box that sets the menu and runs the tab.
    app.py also ran the tab after every example: that run read the menu's previous model, and when it
    ended last the QA example's results and menu were the NER model's (seen in CI under load)."""
    import app

    demo = app.build_demo()
    config = demo.get_config_file()
    menus = {c["id"] for c in config["components"] if "model-menu" in (c["props"].get("elem_classes") or [])}
    deps = config["dependencies"]
    writers = {}
    for dataset in (c["id"] for c in config["components"] if c["type"] == "dataset"):
        # every handler an example click starts: chained ones, and those a changed output fires
        loads = {d["id"] for d in deps if [dataset, "click"] in map(list, d["targets"])}
        reached = set(loads)
        while True:
            changed = {c for d in deps if d["id"] in reached for c in d["outputs"]}
            more = {
                d["id"]
                for d in deps
                if d["trigger_after"] in reached or any(t[1] == "change" and t[0] in changed for t in d["targets"])
            }
            if more <= reached:
                break
            reached |= more
        writers[dataset] = [demo.fns[d["id"]].name for d in deps if d["id"] in reached - loads and menus & set(d["outputs"])]
    assert len(writers) >= 6 and [names for names in writers.values() if len(names) > 1] == [], writers
    assert sum(1 for names in writers.values() if names == ["pick_example"]) == 2  # Explain and Heads
