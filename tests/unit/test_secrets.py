"""A key as people paste it: trimmed with one line that never holds it, or refused in one line;
and every form a secret takes in a message masked."""

import json
from urllib.parse import quote, quote_plus

import pytest

from mixpeek_tasks.secrets import UnusableKey, clean_api_key, mask

KEY = "sk_test_SENTINEL+/=_0123456789abcdef"
PASTED = {"newline": KEY + "\n", "crlf": KEY + "\r\n", "tab": KEY + "\t",
          "leading space": " " + KEY, "both": "\t" + KEY + " \n"}


@pytest.mark.parametrize("raw", PASTED.values(), ids=PASTED)
def test_whitespace_around_a_pasted_key_is_removed_and_said_without_the_key(raw):
    key = clean_api_key(raw)
    assert key.value == KEY
    assert key.trimmed.startswith("MIXPEEK_API_KEY had whitespace around the key (")
    assert KEY not in key.trimmed and "\n" not in key.trimmed


def test_a_clean_key_is_taken_as_it_is_with_nothing_to_say():
    assert clean_api_key(KEY).trimmed is None


@pytest.mark.parametrize(("raw", "said"), [
    (KEY[:10] + "\n" + KEY[10:], "'\\n' at character 11 of 37"),
    (KEY[:10] + " " + KEY[10:], "' ' at character 11 of 37"),
    (KEY + "\u00e9", "'\\xe9' at character 37 of 37"),
    ("\u200b" + KEY, "'\\u200b' at character 1 of 37"),
    (" \n", "holds only whitespace"),
], ids=["line break inside", "space inside", "accent", "zero-width space", "blank"])
def test_a_key_no_header_can_carry_is_refused_in_one_line_without_the_key(raw, said):
    with pytest.raises(UnusableKey) as refused:
        clean_api_key(raw)
    message = str(refused.value)
    assert said in message and len(message.splitlines()) == 1
    assert KEY[:10] not in message and KEY[10:] not in message


def _forms(secret: str) -> list[str]:
    return [secret, repr(secret), repr(secret.encode()), str(secret.encode()),
            json.dumps(secret), json.dumps({"Authorization": f"Bearer {secret}"}),
            quote(secret), quote(secret, safe=""), quote_plus(secret),
            f"Illegal header value {('Bearer ' + secret).encode()!r}"]


@pytest.mark.parametrize("raw", [KEY, *PASTED.values()], ids=["clean", *PASTED])
def test_every_form_of_the_key_is_masked(raw):
    for form in _forms(raw) + _forms(raw.strip()):
        masked = mask(f"before {form} after", raw)
        assert KEY not in masked and quote(KEY, safe="") not in masked, masked
        assert masked.startswith("before") and masked.endswith("after")
        assert "***" in masked


def test_short_values_and_none_mask_nothing():
    assert mask("a key of k", "k", None, "") == "a key of k"
