"""Golden answers from transformers 4.57's ``QuestionAnsweringPipeline`` (the last transformers with it).

Run once, in a separate environment (never imported by the tests; the app's own venv has
transformers 5, which has no QA pipeline):

    python3.11 -m venv /tmp/hf457
    /tmp/hf457/bin/pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
    /tmp/hf457/bin/pip install "transformers==4.57.*"
    /tmp/hf457/bin/python tests/data/qa_oracle/make_goldens.py

It builds a tiny random BERT span model from a config and a small WordPiece vocabulary with a
fixed seed, saves it to ``model/`` (about 200 KB), runs the pipeline on the CASES below with its
defaults (384-token windows, doc_stride 128, max_answer_len 15, align_to_words) unless a case
says otherwise, and writes ``goldens.json``. ``tests/test_tasks_qa_parity.py`` loads the same
model into the app and decodes its logits with ``explorer.tasks.qa``.
"""

from __future__ import annotations

import json
import platform
import random
import string
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL = HERE / "model"
SEED = 17

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = (
    "the a is was of in on and to by it who what where when which how many did paris big old city river "
    "france capital google transformer introduced 2017 cup ##ert ##ino apple inc tim cook lives near"
).split()
CHARACTERS = string.ascii_lowercase + string.digits
VOCAB = list(
    dict.fromkeys(  # in order, each entry once ("a" is a word and a letter)
        SPECIALS
        + WORDS
        + list(CHARACTERS)
        + [f"##{c}" for c in CHARACTERS]
        + list(".,;:!?()'-$%")
        + ["°", "##°", "€", "##€"]
        + list("東京大阪")
    )
)

FILLER = (
    "the river of the old city was big and paris lives near france by the capital where many apple trees stood in "
    "quiet rows while zanzibar merchants sold pomegranates cinnamon saffron and indigo to travellers from "
    "cupertino who had introduced new ideas in 2017"
).split()


def long_context(seed: int, n_words: int, insert: dict[int, str] | None = None) -> str:
    """A reproducible context of ``n_words`` words (many spelled letter by letter: several windows)."""
    rng = random.Random(seed)
    words = [rng.choice(FILLER) for _ in range(n_words)]
    for position, text in (insert or {}).items():
        words[position] = text
    return " ".join(words).capitalize() + "."


CASES = [
    # short contexts, words cut into pieces (cup ##ert ##ino, letters for unknown words)
    {"question": "Where does Tim Cook live?", "context": "Tim Cook lives near Cupertino, in the big city of California."},
    {
        "question": "What was introduced in 2017?",
        "context": "The Transformer was introduced in 2017 by Google Brain in Mountain View.",
    },
    {
        "question": "Who sold saffron?",
        "context": "Zanzibar merchants sold saffron, cinnamon and indigo to travellers from Cupertino.",
    },
    {
        "question": "What is the capital of France?",
        "context": "Paris is the capital of France and its biggest city on the river Seine.",
    },
    {
        "question": "Which word is long?",
        "context": "Pneumonoultramicroscopicsilicovolcanoconiosis is a long word that nobody uses in speech.",
    },
    {
        "question": "How many?",
        "context": "Antidisestablishmentarianism and floccinaucinihilipilification are long words, 28 and 29 letters.",
    },
    # the same text more than once: answers merge (scores summed, case ignored)
    {"question": "Which city?", "context": "Paris is big. Paris is old. Paris is the capital of France."},
    {"question": "Which city?", "context": "paris Paris PARIS is big, paris is old and Paris lives near the river."},
    {"question": "Who?", "context": "Tim Cook met Tim Cook near Cupertino, and Tim Cook was introduced to Apple Inc. in 2017."},
    {
        "question": "What is big?",
        "context": "Apple is big, apple is old, APPLE is the capital of apple trees in the big old city.",
    },
    # symbols, numbers, punctuation, CJK, [UNK], accents
    {
        "question": "How warm was it?",
        "context": "It was 5°C in Paris and 30°C in 東京 when Apple Inc. sold phones for €999 or $5.",
    },
    {"question": "Where?", "context": "東京 and 大阪 are big cities; Paris (France) is old, and U.K. cities are near the river."},
    {"question": "What emoji?", "context": "The river 🌊 was big and the city 🏙 was old near Paris in France by the sea."},
    {"question": "Which city?", "context": "Sa\u0303o Paulo and São Paulo are the same big city, near the river in Brazil."},
    {
        "question": "What is it?",
        "context": "It is a well-known, state-of-the-art (2017) model: the Transformer; it was introduced by Google.",
    },
    {
        "question": "When?",
        "context": "In 2017, 2018 and 2019 the capital's river was big; in 2020 it was old, in 2021 it was dry.",
    },
    # non-default settings
    {"question": "Which city?", "context": "Paris is big. Paris is old. Paris is the capital of France.", "top_k": 1},
    {"question": "Which city?", "context": "Paris is big. Paris is old. Paris is the capital of France.", "top_k": 10},
    {
        "question": "Who lives near Cupertino?",
        "context": "Tim Cook lives near Cupertino, in the big city of California.",
        "align_to_words": False,
    },
    {
        "question": "Who sold saffron?",
        "context": "Zanzibar merchants sold saffron, cinnamon and indigo to travellers.",
        "align_to_words": False,
        "top_k": 8,
    },
    {
        "question": "Which word is long?",
        "context": "Pneumonoultramicroscopicsilicovolcanoconiosis is a long word that nobody uses in speech.",
        "max_answer_len": 30,
    },
    {"question": "What?", "context": "Floccinaucinihilipilification is long. Paris is big.", "max_answer_len": 4},
    # long contexts: several windows of 384 tokens sharing 128
    {"question": "What was introduced?", "context": long_context(1, 120)},
    {"question": "Where does Tim Cook live?", "context": long_context(2, 220, {5: "Cupertino", 150: "Cupertino"})},
    {"question": "Which city is big?", "context": long_context(3, 300, {20: "Paris", 95: "Paris", 96: "Paris", 250: "Paris"})},
    {"question": "Who sold saffron?", "context": long_context(4, 420)},
    {"question": "When?", "context": long_context(5, 160, {60: "2017", 80: "2017", 100: "2017"}), "top_k": 10},
    {"question": "Where?", "context": long_context(6, 260), "align_to_words": False},
    {
        "question": "What is the capital of France and where is the river that runs through the old city?",
        "context": long_context(7, 200),
    },
    {"question": " ".join(["what is the capital of france"] * 20), "context": long_context(8, 180)},
    {"question": "What?", "context": long_context(9, 90, {44: "東京", 45: "€999", 46: "5°C"})},
    {"question": "Which?", "context": long_context(10, 140).replace(" ", "  ", 30)},
]


def build_model():
    """The tiny span model and its tokenizer, saved to MODEL (deterministic for SEED)."""
    import torch
    from transformers import BertConfig, BertForQuestionAnswering, BertTokenizerFast

    torch.manual_seed(SEED)
    MODEL.mkdir(exist_ok=True)
    (MODEL / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(str(MODEL / "vocab.txt"), do_lower_case=True)
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    model = BertForQuestionAnswering(config)
    with torch.no_grad():  # spread the logits (std ~3) so that scores differ far beyond float noise
        model.qa_outputs.weight.normal_(0.0, 0.5)
    model.save_pretrained(MODEL)
    tokenizer.save_pretrained(MODEL)


def main() -> None:
    import torch
    import transformers
    from transformers import AutoTokenizer, BertForQuestionAnswering, pipeline
    from transformers.pipelines.question_answering import select_starts_ends

    assert transformers.__version__.startswith("4.57."), transformers.__version__
    build_model()
    tokenizer = AutoTokenizer.from_pretrained(MODEL)
    # eager attention, as the app loads every model (it needs the attention weights)
    model = BertForQuestionAnswering.from_pretrained(MODEL, attn_implementation="eager").eval()
    qa = pipeline("question-answering", model=model, tokenizer=tokenizer, device="cpu")
    goldens = []
    for case in CASES:
        params = {key: case[key] for key in ("top_k", "max_answer_len", "align_to_words") if key in case}
        answers = qa(question=case["question"], context=case["context"], **{"top_k": 5, **params})
        answers = [answers] if isinstance(answers, dict) else answers
        assert answers and all(a["score"] > 0 for a in answers), case  # no zero-probability padding in the goldens
        # the no-answer score as the pipeline computes it with handle_impossible_answer (smallest over windows)
        windows = list(qa.preprocess({"question": case["question"], "context": case["context"]}))
        null = 1000000.0
        for window in windows:
            out = qa.forward(window)
            mask = out["attention_mask"].numpy() if out.get("attention_mask") is not None else None
            null = select_starts_ends(out["start"], out["end"], out["p_mask"], mask, null, 1, True)[3]
        goldens.append(
            {
                "question": case["question"],
                "context": case["context"],
                "params": params,  # beyond the defaults (and top_k=5)
                "windows": len(windows),
                "answers": [{key: a[key] for key in ("answer", "start", "end", "score")} for a in answers],
                "no_answer": null,
            }
        )
    meta = {
        "made_by": "tests/data/qa_oracle/make_goldens.py",
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "seed": SEED,
        "pipeline_defaults": {"max_seq_len": 384, "doc_stride": 128, "max_answer_len": 15, "align_to_words": True},
    }
    (HERE / "goldens.json").write_text(
        json.dumps({"meta": meta, "cases": goldens}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(f"{len(goldens)} cases, {sum(g['windows'] for g in goldens)} windows -> {HERE / 'goldens.json'}")


if __name__ == "__main__":
    main()
