"""What each head does on one input: where its attention goes, a role label, and a head finder.

Clark et al. 2019 ("What Does BERT Look At?", sections 3 and 4) measure, per head, the share of
attention that goes to [CLS], to [SEP], to the token itself, to the previous and the next token,
and to punctuation, and the entropy of each query's distribution. ``role_shares`` computes those
numbers for every layer x head from one analysis' weights (pure numpy, no model), ``label_of``
names a role from the documented thresholds below, ``find_heads`` ranks every head by the weight
from one token to another ("which heads link *it* to *animal*?").

A share is the mean over query tokens of the attention mass a query puts on those keys: the
[CLS] share of a head is ``mean_q sum_{k in CLS} A[q, k]``. Padding rows and keys (attention
mask 0) are left out. The first special token is "[CLS]" and every other special token "[SEP]",
so ``<s>``/``</s>`` models are read the same way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SHARES = ("cls", "sep", "self", "prev", "next", "punct")

# A head gets the role of its largest share when that share is at least ROLE_SHARE: more than
# half of all its attention goes there (Clark et al. call a head "previous token" when most of
# its attention goes to the previous token). Otherwise a head whose rows spread over the keys,
# mean row entropy at least BROAD_ENTROPY of the uniform distribution's log(T), is "broad";
# anything else is "mixed". Both numbers are fixed here and named in the Heads tab's legend.
ROLE_SHARE = 0.5
BROAD_ENTROPY = 0.7

ROLES = ("cls", "sep", "self", "prev", "next", "punct", "broad", "mixed")
ROLE_NAMES = {  # the API's English names; the UI renders ``heads.role.<id>`` in the user's language
    "cls": "[CLS] sink",
    "sep": "[SEP] sink",
    "self": "self",
    "prev": "previous token",
    "next": "next token",
    "punct": "punctuation",
    "broad": "broad",
    "mixed": "mixed",
}


def is_punctuation(token: str) -> bool:
    """A token made only of punctuation characters (Unicode category P*), ``##`` prefix aside."""
    piece = token[2:] if token.startswith("##") and len(token) > 2 else token
    return bool(piece) and all(unicodedata.category(char).startswith("P") for char in piece)


@dataclass(frozen=True)
class RoleShares:
    """Per head ``(L, H)`` arrays: the six shares, the mean row entropy (nats) and that entropy
    divided by log(number of keys) (1 = uniform attention)."""

    shares: dict[str, np.ndarray]
    entropy: np.ndarray
    relative_entropy: np.ndarray

    @property
    def labels(self) -> np.ndarray:
        """``(L, H)`` role ids."""
        n_layers, n_heads = self.entropy.shape
        return np.array(
            [[label_of(self.at(layer, head), float(self.relative_entropy[layer, head])) for head in range(n_heads)]
             for layer in range(n_layers)]
        )  # fmt: skip

    def at(self, layer: int, head: int) -> dict[str, float]:
        return {name: float(self.shares[name][layer, head]) for name in SHARES}

    def special_share_per_layer(self) -> np.ndarray:
        """``(L,)`` share of attention to [CLS] and [SEP] together, mean over the layer's heads (exBERT's bar)."""
        return (self.shares["cls"] + self.shares["sep"]).mean(axis=1)


def key_masks(tokens: Sequence[str], special_mask: np.ndarray, attention_mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Boolean ``(T,)`` masks of the keys counted as [CLS], [SEP] and punctuation."""
    special = np.asarray(special_mask, dtype=bool)
    real = np.ones(len(tokens), dtype=bool) if attention_mask is None else np.asarray(attention_mask).astype(bool)
    special = special & real
    first = np.zeros_like(special)
    if special.any():
        first[int(np.argmax(special))] = True
    punct = np.array([is_punctuation(token) for token in tokens], dtype=bool) & ~special & real
    return {"cls": first, "sep": special & ~first, "punct": punct, "real": real}


def role_shares(
    attentions: np.ndarray, tokens: Sequence[str], special_mask: np.ndarray, attention_mask: np.ndarray | None = None
) -> RoleShares:
    """Shares of every head of ``attentions`` ``(L, H, T, T)`` (``[layer, head, query, key]``)."""
    weights = np.asarray(attentions, dtype=np.float64)
    n_tokens = weights.shape[-1]
    masks = key_masks(tokens, special_mask, attention_mask)
    real = masks["real"]
    rows = weights[:, :, real, :]  # (L, H, Q, T): real queries only
    n_queries = rows.shape[2]
    if n_queries == 0:
        raise ValueError("no token to measure: every position is padding")
    query_index = np.flatnonzero(real)
    shares = {name: rows[..., masks[name]].sum(axis=-1).mean(axis=-1) for name in ("cls", "sep", "punct")}

    def diagonal(offset: int) -> np.ndarray:
        keys = query_index + offset
        inside = (keys >= 0) & (keys < n_tokens)
        picked = np.zeros(rows.shape[:3])
        inside &= real[np.clip(keys, 0, n_tokens - 1)]
        picked[..., inside] = rows[..., np.flatnonzero(inside), keys[inside]]
        return picked.mean(axis=-1)

    shares["self"], shares["prev"], shares["next"] = diagonal(0), diagonal(-1), diagonal(+1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(rows > 0, -rows * np.log(rows), 0.0)
    entropy = terms.sum(axis=-1).mean(axis=-1)
    n_keys = int(real.sum())
    relative = entropy / np.log(n_keys) if n_keys > 1 else np.zeros_like(entropy)
    return RoleShares({name: shares[name] for name in SHARES}, entropy, relative)


def label_of(shares: dict[str, float], relative_entropy: float) -> str:
    """The role id of one head from its shares and relative entropy (thresholds above)."""
    name, share = max(((name, shares[name]) for name in SHARES), key=lambda item: item[1])
    if share >= ROLE_SHARE:
        return name
    return "broad" if relative_entropy >= BROAD_ENTROPY else "mixed"


def head_roles(analysis) -> list[dict]:
    """Every head of ``analysis`` as ``{"layer", "head", "role", "label", "cls", "sep", "self", "prev",
    "next", "punct", "entropy"}`` (shares in [0, 1], entropy in nats), layer by layer."""
    return role_records(shares_of(analysis))


def role_records(measured: RoleShares) -> list[dict]:
    """The records of ``head_roles`` from shares already measured (the Heads tab's ``/heads``)."""
    labels = measured.labels
    return [
        {
            "layer": layer,
            "head": head,
            "role": str(labels[layer, head]),
            "label": ROLE_NAMES[str(labels[layer, head])],
            **{name: round(value, 4) for name, value in measured.at(layer, head).items()},
            "entropy": round(float(measured.entropy[layer, head]), 4),
        }
        for layer, head in np.ndindex(labels.shape)
    ]


def top_share(shares: dict[str, np.ndarray]) -> np.ndarray:
    """``(L, H)`` largest of the six shares: the one that names a role (or, for broad/mixed, the largest)."""
    return np.stack([np.asarray(shares[name], dtype=float) for name in SHARES]).max(axis=0)


def shares_of(analysis) -> RoleShares:
    return role_shares(analysis.attentions, analysis.tokens, analysis.special_mask, analysis.attention_mask)


def find_heads(attentions: np.ndarray, query: int, key: int) -> list[tuple[int, int, float]]:
    """Every head as ``(layer, head, weight from token query to token key)``, largest weight first
    (ties: lower layer, then lower head, first)."""
    weights = np.asarray(attentions)[:, :, query, key].astype(np.float64)
    order = sorted(np.ndindex(weights.shape), key=lambda index: (-weights[index], index))
    return [(int(layer), int(head), float(weights[layer, head])) for layer, head in order]
