"""Japanese tokenization as the Tohoku BERT models do it (chapter section 3.8).

Step 1: MeCab (via fugashi, with the unidic-lite dictionary) splits the text into
morphemes with part of speech, lemma and reading. Step 2: transformers'
``BertJapaneseTokenizer`` splits each morpheme into subwords. Offline we use a
character-level subword vocabulary built by ``explorer.ja_vocab`` (as the Tohoku
"char" models do); a Japanese hub model's own tokenizer is used when one is loaded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

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
