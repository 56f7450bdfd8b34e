import pytest

from explorer.errors import InputError
from explorer.text import clean_input


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n", None, "\x00\x01\x1b"])
def test_empty_or_invisible_input_is_a_clear_error(text):
    with pytest.raises(InputError, match="enter some text"):
        clean_input(text)


def test_control_characters_are_removed_and_reported():
    cleaned = clean_input("a\x00b\x1bc\nd\te")
    assert cleaned.text == "abc\nd\te"
    assert cleaned.notes == ("Removed 2 control characters from the input.",)


def test_very_long_input_is_cut_and_reported():
    cleaned = clean_input("word " * 10_000, max_chars=1_000)
    assert len(cleaned.text) == 1_000
    assert "50,000 characters" in cleaned.notes[0]


@pytest.mark.parametrize("text", ["😀👨‍👩‍👧", "e\u0301\u0301", "مرحبا بالعالم", "日本語とEnglish", "<script>alert(1)</script>"])
def test_unusual_but_valid_text_is_kept_verbatim(text):
    assert clean_input(text).text == text
    assert clean_input(text).notes == ()


def test_non_text_is_rejected():
    with pytest.raises(InputError):
        clean_input(42)
