import pytest

from explorer.errors import InputError
from explorer.messages import Msg
from explorer.text import clean_input


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n", None, "\x00\x01\x1b"])
def test_empty_or_invisible_input_is_a_clear_error(text):
    with pytest.raises(InputError) as error:
        clean_input(text)
    assert error.value.msg.key == "input.empty"
    assert "enter some text" in str(error.value)


def test_control_characters_are_removed_and_reported():
    cleaned = clean_input("a\x00b\x1bc\nd\te")
    assert cleaned.text == "abc\nd\te"
    assert cleaned.notes == (Msg("input.removed_controls", count=2),)
    assert "Removed 2 control character" in str(cleaned.notes[0])


def test_very_long_input_is_cut_and_reported():
    cleaned = clean_input("word " * 10_000, max_chars=1_000)
    assert len(cleaned.text) == 1_000
    assert cleaned.notes == (Msg("input.cut_characters", total="50,000", kept="1,000"),)
    assert "50,000 characters" in str(cleaned.notes[0])


@pytest.mark.parametrize("text", ["😀👨‍👩‍👧", "e\u0301\u0301", "مرحبا بالعالم", "日本語とEnglish", "<script>alert(1)</script>"])
def test_unusual_but_valid_text_is_kept_verbatim(text):
    assert clean_input(text).text == text
    assert clean_input(text).notes == ()


def test_non_text_is_rejected():
    with pytest.raises(InputError) as error:
        clean_input(42)
    assert error.value.msg == Msg("input.not_text", kind="int")
