"""Shared fixtures: tiny random BERT models the tests build themselves, and clean caches."""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach the hub

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from explorer import backend, models  # noqa: E402

TINY_WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "the",
    "cat",
    "sat",
    "on",
    "mat",
    ".",
    "dog",
    "##s",
    "a",
    "b",
    "<",
    ">",
    "/",
]


def build_tiny_bert(folder: Path, layers: int = 2, heads: int = 4, hidden: int = 32, max_positions: int = 64) -> Path:
    """A random-weight BERT and its WordPiece tokenizer, saved as a hub-style folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    torch.manual_seed(0)
    tokenizer = BertTokenizer(vocab={word: index for index, word in enumerate(TINY_WORDS)})
    config = BertConfig(
        vocab_size=len(TINY_WORDS),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=2 * hidden,
        max_position_embeddings=max_positions,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


TINY_JA_WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "自然",
    "言語",
    "処理",
    "は",
    "人工",
    "知能",
    "の",
    "です",
    "。",
    "##です",
]


def build_tiny_japanese_bert(folder: Path) -> Path:
    """A random-weight BERT with a Tohoku-style tokenizer (MeCab + unidic-lite + WordPiece)."""
    import torch
    from transformers import BertConfig, BertJapaneseTokenizer, BertModel

    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(TINY_JA_WORDS) + "\n", encoding="utf-8")
    tokenizer = BertJapaneseTokenizer(
        vocab_file=str(folder / "vocab.txt"),
        word_tokenizer_type="mecab",
        subword_tokenizer_type="wordpiece",
        mecab_kwargs={"mecab_dic": "unidic_lite"},
    )
    config = BertConfig(
        vocab_size=len(TINY_JA_WORDS), hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=48
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


# Every test module has one tier (pytest -m unit / tiny / real / api / browser / train).
# A new module must be listed here: test_every_module_has_a_tier fails otherwise.
TIERS = {
    "test_analysis": "unit",
    "test_attribution": "unit",
    "test_lint": "unit",
    "test_messages": "unit",
    "test_tasks_ner": "unit",
    "test_tasks_qa": "unit",
    "test_text": "unit",
    "test_views": "unit",
    "test_heads": "unit",
    "test_syntax": "unit",
    "test_bertviz_views": "unit",
    "test_backend": "tiny",
    "test_interventions": "tiny",
    "test_step": "tiny",
    "test_ablation": "tiny",
    "test_japanese": "tiny",
    "test_morphemes": "tiny",
    "test_tasks_ner_parity": "tiny",
    "test_tasks_qa_parity": "tiny",
    "test_scratch": "real",
    "test_corpus": "real",
    "test_minilm": "real",
    "test_step_minilm": "real",
    "test_task_models": "real",
    "test_sentiment_hard": "real",
    "test_storage_precision": "real",
    "test_presenters": "real",
    "test_readability": "real",
    "test_norms": "real",
    "test_explain": "real",
    "test_mlm_head": "real",
    "test_embeddings": "real",
    "test_masking": "unit",
    "test_lesson": "unit",
    "test_live_finetune": "real",
    "test_export": "unit",
    "test_browser_lesson": "browser",
    "test_compare": "real",
    "test_fill_mask": "real",
    "test_fill_engine": "tiny",
    "test_device_path": "tiny",
    "test_model_menu": "tiny",
    "test_task_tabs": "api",
    "test_app_api": "api",
    "test_api_clients": "api",
    "test_hostile_input": "api",
    "test_i18n_links": "api",
    "test_spaces": "api",
    "test_load_bench": "api",
    "test_browser": "browser",
    "test_browser_classroom": "browser",
    "test_browser_controls": "browser",
    "test_browser_client_views": "browser",
    "test_browser_readability": "browser",
    "test_browser_layout": "browser",
    "test_browser_figures": "browser",
    "test_browser_menus": "browser",
    "test_train_smoke": "train",
}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        # with pytest-xdist (`-n 2 --dist loadgroup`): a module runs on one worker, in order, with
        # its module fixtures (a server) once; the every-control browser test is split by language, so
        # its two halves (the longest part of the suite) run side by side on two servers.
        module = item.module.__name__.rsplit(".", 1)[-1]
        language = getattr(getattr(item, "callspec", None), "params", {}).get("lang")
        group = f"{module}-{language}" if module == "test_browser_controls" and language else module
        item.add_marker(pytest.mark.xdist_group(group))
        tier = TIERS.get(item.module.__name__.rsplit(".", 1)[-1])
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture()
def tiny_japanese_model(tmp_path_factory):
    folder = build_tiny_japanese_bert(tmp_path_factory.mktemp("tiny-ja-bert"))
    spec = models.register_model(
        models.ModelSpec(
            name="tiny-ja-bert", source=str(folder), description="", language="ja", requires=("fugashi", "unidic_lite")
        )
    )
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture()
def tiny_model(tiny_bert_dir):
    """Register the tiny model under a test name; remove it afterwards."""
    spec = models.register_model(
        models.ModelSpec(name="tiny-test-bert", source=str(tiny_bert_dir), description="tiny random BERT for tests")
    )
    yield spec.name
    models.REGISTRY.pop(spec.name, None)
    models.unload_all()
    backend.cache.clear()


@pytest.fixture()
def fresh_cache():
    backend.cache.clear()
    yield backend.cache
    backend.cache.clear()


@pytest.fixture(scope="session")
def app_url():
    """The real app, launched in this process on a free loopback port."""
    import socket

    import app as app_module

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    demo = app_module.with_queue(app_module.build_demo())
    demo.launch(
        server_name="127.0.0.1",
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        theme=app_module.THEME,
        css=app_module.CSS,
    )
    yield f"http://127.0.0.1:{port}/"
    demo.close()


TASK_LAYERS, TASK_HEADS = 3, 4


@pytest.fixture(scope="session")
def tiny_task_models(tmp_path_factory):
    """Random-weight BERTs (``TASK_LAYERS`` x ``TASK_HEADS``): a classifier, a tagger, a QA model and a bare encoder."""
    import torch
    from transformers import (
        BertConfig,
        BertForQuestionAnswering,
        BertForSequenceClassification,
        BertForTokenClassification,
        BertModel,
        BertTokenizer,
    )

    kinds = {
        "sentiment": (BertForSequenceClassification, ["negative", "positive"]),
        "ner": (BertForTokenClassification, ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]),
        "qa": (BertForQuestionAnswering, ["start", "end"]),
        None: (BertModel, ["a", "b"]),
    }
    names = {}
    for task, (cls, labels) in kinds.items():
        torch.manual_seed(3)
        folder = tmp_path_factory.mktemp(f"tiny-ablate-{task}")
        config = BertConfig(
            vocab_size=len(TINY_WORDS), hidden_size=32, num_hidden_layers=TASK_LAYERS, num_attention_heads=TASK_HEADS,
            intermediate_size=64, id2label=dict(enumerate(labels)), label2id={label: i for i, label in enumerate(labels)},
        )  # fmt: skip
        cls(config).save_pretrained(folder)
        BertTokenizer(vocab={word: index for index, word in enumerate(TINY_WORDS)}).save_pretrained(folder)
        names[task] = models.register_model(models.ModelSpec(name=f"tiny-ablate-{task}", source=str(folder), task=task)).name
    yield names
    for name in names.values():
        models.REGISTRY.pop(name, None)
    models.unload_all()
    backend.cache.clear()
