"""Japanese tokenization as the Tohoku BERT models do it (chapter section 3.8).

Step 1: MeCab (via fugashi, with the unidic-lite dictionary) splits the text into
morphemes with part of speech, lemma and reading. Step 2: transformers'
``BertJapaneseTokenizer`` splits each morpheme into subwords. Offline we use a
character-level subword vocabulary built by ``explorer.ja_vocab`` (as the Tohoku
"char" models do); a Japanese hub model's own tokenizer is used when one is loaded.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ModelUnavailable
from .ja_vocab import VOCAB_PATH


@dataclass(frozen=True)
class Morpheme:
    surface: str
    pos: str  # e.g. "名詞-普通名詞-一般"
    lemma: str
    reading: str  # katakana reading, "" when the dictionary has none
    start: int
    end: int


@dataclass(frozen=True)
class SubwordToken:
    token: str
    token_id: int
    word: str  # the MeCab word it came from ("" for special tokens)


@functools.lru_cache(maxsize=1)
def _tagger():
    try:
        import fugashi
        import unidic_lite
    except ImportError:
        raise ModelUnavailable("tok.mecab_missing") from None
    return fugashi.Tagger(f'-d "{unidic_lite.DICDIR}"')


def morphemes(text: str) -> list[Morpheme]:
    """MeCab morphemes of ``text`` with character offsets into it."""
    result: list[Morpheme] = []
    cursor = 0
    for word in _tagger()(text):
        surface = word.surface
        start = text.find(surface, cursor)
        if start < 0:  # MeCab normalised something; keep going without an exact span
            start = cursor
        end = start + len(surface)
        cursor = end
        feature = word.feature
        pos = "-".join(part for part in (feature.pos1, feature.pos2, feature.pos3, feature.pos4) if part and part != "*")
        lemma = getattr(feature, "lemma", None) or surface
        reading = getattr(feature, "kana", None) or ""
        result.append(Morpheme(surface, pos, lemma, reading if reading != "*" else "", start, end))
    return result


@functools.lru_cache(maxsize=1)
def character_tokenizer():
    """``BertJapaneseTokenizer``: MeCab words, then single characters from our shipped vocab."""
    from .models import LOADING_LOCK

    with LOADING_LOCK:  # transformers' first import is not thread-safe
        from transformers import BertJapaneseTokenizer

    if not VOCAB_PATH.is_file():
        raise ModelUnavailable("tok.vocab_missing", path=str(VOCAB_PATH))
    return BertJapaneseTokenizer(
        vocab_file=str(VOCAB_PATH),
        word_tokenizer_type="mecab",
        subword_tokenizer_type="character",
        mecab_kwargs={"mecab_dic": "unidic_lite"},
    )


def subwords(text: str, tokenizer=None, max_length: int = 512) -> list[SubwordToken]:
    """[CLS] + subwords of each MeCab word + [SEP], at most ``max_length`` tokens.

    ``tokenizer`` is a ``BertJapaneseTokenizer`` (default: the offline character one).
    """
    tokenizer = tokenizer or character_tokenizer()
    tokens: list[SubwordToken] = [SubwordToken(tokenizer.cls_token, tokenizer.cls_token_id, "")]
    # The same two steps as BertJapaneseTokenizer._tokenize, kept apart to show the word.
    for word in tokenizer.word_tokenizer.tokenize(text):
        for piece in tokenizer.subword_tokenizer.tokenize(word):
            tokens.append(SubwordToken(piece, int(tokenizer.convert_tokens_to_ids(piece)), word))
    tokens = tokens[: max_length - 1]
    tokens.append(SubwordToken(tokenizer.sep_token, tokenizer.sep_token_id, ""))
    return tokens


# ---- attention between MeCab words (morphemes) ------------------------------------------------


def word_groups(tokens: Sequence[str], special: Sequence[bool], words: Sequence[Sequence[str]]) -> list[list[int]] | None:
    """Token indices of each unit: a special token alone, a MeCab word with all its subword pieces.

    ``words[i]`` are the pieces the tokenizer makes of word ``i`` (in order); the non-special
    ``tokens`` must be those pieces one after another (a text cut to the model's window may end
    inside a word: that word keeps the pieces it has). ``None`` when they are not: the tokens were
    not made by this word splitter, so no grouping would be honest.
    """
    expected = [(word, piece) for word, pieces in enumerate(words) for piece in pieces]
    groups: list[list[int]] = []
    cursor = 0
    last_word = -1
    for index, (token, is_special) in enumerate(zip(tokens, special, strict=True)):
        if is_special:
            groups.append([index])
            last_word = -1
            continue
        if cursor >= len(expected) or expected[cursor][1] != token:
            return None
        word = expected[cursor][0]
        if word == last_word:
            groups[-1].append(index)
        else:
            groups.append([index])
            last_word = word
        cursor += 1
    return groups


def aggregate_words(weights: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """``(..., T, T)`` attention (rows: queries, columns: keys) to ``(..., W, W)`` between words.

    The standard word-level aggregation (Clark et al. 2019, "What does BERT look at?"): a word as a
    key receives the **sum** of what its pieces receive, so each row still sums to 1; a word as a
    query attends as the **mean** of its pieces' rows (one word, one row, whatever its length).
    """
    weights = np.asarray(weights, dtype=np.float64)
    keys = np.stack([weights[..., :, list(group)].sum(axis=-1) for group in groups], axis=-1)  # (..., T, W)
    return np.stack([keys[..., list(group), :].mean(axis=-2) for group in groups], axis=-2)  # (..., W, W)


def is_mecab_tokenizer(tokenizer: Any) -> bool:
    """A ``BertJapaneseTokenizer`` that splits words with MeCab before its subwords (Tohoku BERTs)."""
    return getattr(tokenizer, "word_tokenizer_type", None) == "mecab" and hasattr(tokenizer, "subword_tokenizer")


def morpheme_groups(
    text: str, tokens: Sequence[str], special: Sequence[bool], tokenizer: Any
) -> tuple[list[list[int]], list[str]] | None:
    """The token groups of ``text``'s MeCab words under a MeCab ``BertJapaneseTokenizer``, and each
    group's label (the word, or the special token); ``None`` for any other tokenizer or a mismatch."""
    if not is_mecab_tokenizer(tokenizer):
        return None
    surfaces = tokenizer.word_tokenizer.tokenize(text, never_split=getattr(tokenizer, "all_special_tokens", None))
    pieces = [tokenizer.subword_tokenizer.tokenize(word) for word in surfaces]
    groups = word_groups(tokens, special, pieces)
    if groups is None:
        return None
    word_of_piece = [word for word, word_pieces in enumerate(pieces) for _ in word_pieces]
    ordinal = {index: n for n, index in enumerate(i for i, is_special in enumerate(special) if not is_special)}
    labels = [tokens[group[0]] if special[group[0]] else surfaces[word_of_piece[ordinal[group[0]]]] for group in groups]
    return groups, labels
