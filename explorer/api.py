"""The public API: one typed function per endpoint, declared once, one JSON result each.

``app.py`` registers every function of ``ENDPOINTS`` with ``gr.api`` under its own name, so
Python (``gradio_client``), JavaScript (``@gradio/client``) and MCP clients see the names a
caller would write (``text``, ``model``, ``layer``…), in the order of the UI's controls. Every
function answers with the presenter's result as JSON (messages in English), or with
``{"error": sentence, "error_key": key}``: never a traceback, whatever a client sends.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from . import attribution as attribution_module
from .errors import ExplorerError
from .messages import Msg, render
from .models import DEFAULT_MODEL, OFFLINE_DEFAULT, loaded_model_names
from .present import attention as attention_present
from .present import compare as compare_present
from .present import embed as embed_present
from .present import fill as fill_present
from .present import heads as heads_present
from .present import ner as ner_present
from .present import positional, tokenization
from .present import qa as qa_present
from .present import sentiment as sentiment_present
from .present import step as step_present

log = logging.getLogger(__name__)


def _answer(fn: Callable[..., dict]) -> Callable[..., dict]:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs) -> dict:
        try:
            return fn(*args, **kwargs)
        except ExplorerError as error:
            return {"error": render(error.msg), "error_key": error.msg.key}
        except Exception as error:  # the caller gets a sentence; the log keeps the traceback
            log.exception("API %s failed", fn.__name__)
            message = Msg("error.unexpected", kind=type(error).__name__)
            return {"error": render(message), "error_key": message.key}

    return wrapper


@_answer
def tokenize(text: str, model: str = DEFAULT_MODEL) -> dict:
    """The model's tokens (ids, attention mask, special flags, character spans), MeCab morphemes and Japanese subwords."""
    return tokenization.present(text, model).api()


@_answer
def attention(
    text: str,
    model: str = DEFAULT_MODEL,
    layer: int = 0,
    head: int = 0,
    query: int = 0,
    hide_special: bool = False,
    renormalize: bool = False,
    norms: bool = False,
) -> dict:
    """One head's attention weights [query][key] over the tokens (rows sum to 1 unless special tokens are hidden).

    Negative layer/head count from the end; ``hide_special`` drops [CLS]/[SEP], ``renormalize`` makes rows sum to 1 again.
    ``norms`` adds ``norms``: ||alpha f(x)|| [query][key] (Kobayashi et al. 2020), cropped the same way. ``special_share``:
    the mean share of a row going to special tokens, as weights and as norms, for the head and its layer.
    """
    return attention_present.present(text, model, layer, head, query, hide_special, renormalize, norms=norms).api()


@_answer
def step(text: str, model: str = DEFAULT_MODEL, layer: int = 0, head: int = 0, query: int = 0) -> dict:
    """One head of one layer recomputed step by step with the model's own weights.

    ``stages``: each step's name, shape and the query token's row.

    Also the largest differences from the model: its attention weights (``max_abs_diff_weights``) and
    the layer's output, i.e. the next hidden state (``max_abs_diff_layer_output``). Negative layer/head count from the end.
    """
    return step_present.step_through(text, layer, head, query, model)


@_answer
def heads(text: str, model: str = OFFLINE_DEFAULT["sentiment"]) -> dict:
    """Every head's role on ``text``: shares of attention to [CLS], [SEP], self, previous, next token and
    punctuation, mean row entropy (nats) and a role label (thresholds in ``thresholds``).

    For a question-answering model: the question on the first line, the context below.
    """
    return heads_present.present(text, model).api()


@_answer
def ablate(text: str, model: str = OFFLINE_DEFAULT["sentiment"], heads: str = "3.1, 5.11") -> dict:
    """The task output with all heads (``before``) and with ``heads`` switched off (``after``).

    ``heads``: "layer.head" items counted from 0, comma-separated ("3.*" = a whole layer).
    Sentiment: label and probabilities; NER: entities; QA: the answer; an encoder: the sentence embedding's cosine.
    """
    return heads_present.ablate(text, model, heads).api()


@_answer
def head_importance(text: str, model: str = OFFLINE_DEFAULT["sentiment"]) -> dict:
    """Every head switched off alone: ``importance[layer][head]`` is the drop of the task's ``measure``.

    Runs one batched forward pass per layer; inputs up to 128 tokens; one call at a time per server.
    """
    return heads_present.importance(text, model).api()


@_answer
def attribute(
    text: str,
    model: str = OFFLINE_DEFAULT["sentiment"],
    method: str = "integrated_gradients",
    target: str = "",
    n_steps: int = attribution_module.DEFAULT_STEPS,
) -> dict:
    """Token importance for the model's prediction: ``scores`` (one per token of ``tokens``), ``prediction``.

    ``method``: attention, rollout, value_norm, grad_x_input, integrated_gradients, occlusion.
    ``target``: empty for the model's own prediction; a class label (sentiment); a token index (NER);
    "answer" (QA: the question on the first line of ``text``, the context below). Integrated gradients
    add ``delta`` (sum of attributions - (f_x - f_baseline)), ``f_x``, ``f_baseline``.
    Integrated gradients and occlusion take inputs up to 128 tokens.
    """
    return attribution_module.attribute(text, model, method, target, n_steps).api()


@_answer
def faithfulness(text: str, model: str = OFFLINE_DEFAULT["sentiment"], target: str = "", n_steps: int = 32) -> dict:
    """ERASER faithfulness of every method for this prediction: per method ``aopc_comprehensiveness``
    (higher = better), ``sufficiency`` (lower = better) and the deletion ``curve``; ``random`` is the reference.
    Removed tokens become [MASK]. Inputs up to 128 tokens."""
    return attribution_module.faithfulness(text, model, target, n_steps).api()


@_answer
def positional_encoding(
    d_model: int = 128, max_len: int = 100, dims: str = positional.DEFAULT_DIMS, model: str = DEFAULT_MODEL
) -> dict:
    """The chapter's sinusoidal positional encoding (first positions) and which dimensions would be plotted."""
    return positional.present(d_model, max_len, dims, model).api()


@_answer
def sentiment(text: str, model: str = OFFLINE_DEFAULT["sentiment"], layer: int = 5, head: int = 0) -> dict:
    """The sentiment label, every class probability, and attention rollout from [CLS] over the text."""
    return sentiment_present.present(text, model, layer, head).api()


@_answer
def ner(text: str, model: str = OFFLINE_DEFAULT["ner"], strategy: str = "simple", layer: int = 5, head: int = 0) -> dict:
    """Named entities with type, score and character span; ``strategy``: none, simple, first, average or max."""
    return ner_present.present(text, model, strategy, layer, head).api()


@_answer
def qa(question: str, context: str, model: str = OFFLINE_DEFAULT["qa"], layer: int = 5, head: int = -1) -> dict:
    """The answer span in ``context`` with its score and character offsets, the alternatives and the no-answer score."""
    return qa_present.present(question, context, model, layer, head).api()


@_answer
def bertviz(text: str, model: str = DEFAULT_MODEL, layer: int = 0, view: str = "head") -> dict:
    """bertviz's head or model view of ``text`` as a self-contained <iframe srcdoc> (scripts inlined, offline)."""
    return attention_present.bertviz(text, model, layer, view).api()


@_answer
def compare(
    text_a: str, text_b: str, model: str = DEFAULT_MODEL, layer: int = 0, head: int = 0, positions_off: bool = False
) -> dict:
    """Two texts, one model: how the tokens align, per layer and head the Jensen–Shannon ``divergence``
    of their attention, and the task head's answer for both; ``positions_off`` zeroes the position embeddings."""
    return compare_present.present(text_a, text_b, model, layer, head, positions_off).api()


@_answer
def embed(sentences: str, model: str = DEFAULT_MODEL, pooling: str = "sentence-transformers", layer: int = -1) -> dict:
    """Sentence embeddings, one sentence a line: ``pooling`` (sentence-transformers, mean, max, cls) of
    hidden state ``layer`` (-1: the last); their cosine ``similarity`` matrix and a 2-D PCA map."""
    return embed_present.present(sentences, model, pooling, layer).api()


@_answer
def fill_mask(text: str, model: str = "", top_k: int = 5) -> dict:
    """Top-``top_k`` tokens with probabilities for every [MASK] in ``text`` (the model's masked-LM head;
    ``model=""``: the embedded model with this project's head, or a hub BERT)."""
    return fill_present.present(text, model or None, top_k).api()


@_answer
def masking(text: str, model: str = DEFAULT_MODEL, seed: int = 0, draws: int = 1000) -> dict:
    """BERT's masking recipe on ``text`` (15 % chosen: 80 % [MASK], 10 % random, 10 % unchanged), drawn as
    transformers' DataCollatorForLanguageModeling draws it with ``seed``; ``shares`` over ``draws`` draws."""
    return fill_present.simulate(text, model, seed, draws).api()


def health() -> dict:
    """Liveness for load balancers and load tests: no model runs. Lists the models in memory."""
    return {"status": "ok", "models_loaded": loaded_model_names()}


ENDPOINTS: tuple[Callable[..., dict], ...] = (
    tokenize,
    attention,
    step,
    heads,
    ablate,
    head_importance,
    attribute,
    faithfulness,
    positional_encoding,
    sentiment,
    ner,
    qa,
    bertviz,
    compare,
    embed,
    fill_mask,
    masking,
    health,
)

# Endpoints that run the model many times: one call at a time per server in their own queue, shared
# with the tab's button that does the same work, so one client cannot starve a class.
EXPENSIVE: frozenset[str] = frozenset({"head_importance"})  # queue "expensive" (the Heads tab's sweep)
ATTRIBUTION_QUEUE = "attribution"  # /attribute, /faithfulness and the Explain tab's buttons
QUEUES: dict[str, str] = {name: "expensive" for name in EXPENSIVE} | {
    "attribute": ATTRIBUTION_QUEUE,
    "faithfulness": ATTRIBUTION_QUEUE,
}
