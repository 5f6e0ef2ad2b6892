"""Secrets in messages: the API key as people paste it, and every form a secret can take in a
message masked.

A key copied from a password manager or written with `echo >` carries a newline, `\\r\\n` or a
tab; sent as is, the HTTP library refuses the header and quotes the key back escaped
(`b'Bearer sk_...\\n'`), which masking the raw value alone never matches. So the key is trimmed
before it is used, a key that still holds a character a header cannot carry is refused in one
line, and masking covers the escaped, bytes-repr, URL- and JSON-encoded forms too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

from mixpeek_tasks.api.errors import MixpeekError

MASK = "***"
# A value shorter than this would mask ordinary letters of a message (and no real key is).
MIN_SECRET_CHARS = 8


class UnusableKey(MixpeekError):
    """The API key cannot be sent in an Authorization header; the message never holds it."""


@dataclass(frozen=True)
class PastedKey:
    value: str
    # What was trimmed, said without the key; None when the key came clean.
    trimmed: str | None = None


def clean_api_key(raw: str, variable: str = "MIXPEEK_API_KEY") -> PastedKey:
    """The key as an Authorization header carries it: surrounding whitespace removed, and
    UnusableKey if what is left holds anything but visible ASCII (`variable` names it)."""
    value = raw.strip()
    if not value:
        raise UnusableKey(f"{variable} holds only whitespace: set it to your key")
    for position, character in enumerate(value, start=1):
        if not "!" <= character <= "~":
            raise UnusableKey(
                f"{variable} holds {ascii(character)} at character {position} of {len(value)}, "
                "which an HTTP header cannot carry: copy the key again")
    if value == raw:
        return PastedKey(value)
    around = [f"{side} {ascii(part)}" for side, part in (
        ("leading", raw[:len(raw) - len(raw.lstrip())]),
        ("trailing", raw[len(raw.rstrip()):])) if part]
    return PastedKey(value, f"{variable} had whitespace around the key ({', '.join(around)}); "
                            "it was removed")


def secret_forms(secret: str) -> set[str]:
    """The ways `secret`, and `secret` trimmed, can be spelled in a message: as is, escaped by
    `repr`, inside a bytes repr, JSON-encoded and URL-encoded."""
    forms = set()
    for value in {secret, secret.strip()}:
        forms |= {value, repr(value)[1:-1], value.encode("unicode_escape").decode("ascii"),
                  repr(value.encode("utf-8"))[2:-1], json.dumps(value)[1:-1],
                  json.dumps(value, ensure_ascii=False)[1:-1], quote(value), quote(value, safe=""),
                  quote_plus(value)}
    return {form for form in forms if len(form) >= MIN_SECRET_CHARS}


def mask(text: str, *secrets: str | None) -> str:
    """`text` with every form of each secret (see secret_forms) replaced by `***`."""
    forms = set().union(*(secret_forms(s) for s in secrets if s))
    # Longest first: a shorter form inside a longer one must not leave the rest behind.
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text
