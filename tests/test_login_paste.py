"""Parsing the pasted verification code (SECURITY.md B5, issue 5 paste robustness)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awslogin.login.paste import (
    BadPasteError,
    StateMismatchError,
    normalise,
    parse_verification_code,
)

STATE = "5f0c1d2e-3b4a-4c5d-8e6f-7a8b9c0d1e2f"
CODE = "Zm9vYmFyLWF1dGgtY29kZS0xMjM0NTY3ODkw_-.~"


def encode(query: str, *, urlsafe: bool = False) -> str:
    raw = query.encode()
    return (base64.urlsafe_b64encode(raw) if urlsafe else base64.b64encode(raw)).decode()


GOOD = encode(f"state={STATE}&code={CODE}")


def test_plain_code() -> None:
    assert parse_verification_code(GOOD, STATE) == CODE


def test_urlsafe_padded_and_unpadded_forms() -> None:
    urlsafe = encode(f"state={STATE}&code={CODE}>>>", urlsafe=True)
    assert urlsafe.endswith("=") and ("-" in urlsafe or "_" in urlsafe)
    assert parse_verification_code(urlsafe, STATE) == CODE + ">>>"
    assert parse_verification_code(urlsafe.rstrip("="), STATE) == CODE + ">>>"


def test_standard_base64_without_its_padding_looks_cut_off() -> None:
    assert GOOD.endswith("==")
    with pytest.raises(BadPasteError, match="looks cut off.*[Cc]opy it again"):
        parse_verification_code(GOOD.rstrip("="), STATE)


@pytest.mark.parametrize("missing", [1, 2, 3, 5, 6, 7, 9, 10, 11])
def test_a_paste_missing_its_last_characters_is_refused_as_cut_off(missing: int) -> None:
    """A cut paste would spend the single-use code on a wrong value: refuse it instead."""
    cut = GOOD[:-missing]
    with pytest.raises(BadPasteError, match="looks cut off") as info:
        parse_verification_code(cut, STATE)
    assert cut not in str(info.value)


def test_cut_off_is_detected_for_real_emulator_codes() -> None:
    """Codes shaped like the emulator's (token_urlsafe(32)): every short cut is refused."""
    import secrets

    for _ in range(200):
        good = encode(f"state={STATE}&code={secrets.token_urlsafe(32)}")
        for missing in (1, 2, 3, 5, 6, 7):
            with pytest.raises(BadPasteError, match="looks cut off"):
                parse_verification_code(good[:-missing], STATE)


@pytest.mark.parametrize(
    "query",
    [
        f"state={STATE}&code=a%0Abcdefghij",  # a line break once decoded
        f"state={STATE}&code=abcd%20efghij",  # a space once decoded
        f"state={STATE}&code=abcd%09efghij",  # a tab once decoded
        f"state={STATE}&code=abcd%7Fefghij",  # DEL
        f"state={STATE}&code=abcd%C3%A9fghij",  # not ASCII
        f"state={STATE}&code=abcd%FFefghij",  # not even UTF-8
        f"state={STATE}&code=abcd+efghij",  # '+' is a space in a query
        f"state={STATE}%0A&code={CODE}",  # the state too
        f"state={STATE}&code=short",  # far too short for a code
        f"state={STATE}&code={CODE}&extra=1",  # any other parameter
        f"state={STATE}&code={CODE}&error=access_denied",
        f"state={STATE}&code={CODE}&",
        f"state={STATE}&code={CODE}&state={STATE}",
    ],
)
def test_decoded_values_and_parameters_are_validated(query: str) -> None:
    for urlsafe in (False, True):
        with pytest.raises(BadPasteError, match="incomplete or damaged|could not be read"):
            parse_verification_code(encode(query, urlsafe=urlsafe), STATE)


def test_order_of_fields_does_not_matter() -> None:
    assert parse_verification_code(encode(f"code={CODE}&state={STATE}"), STATE) == CODE


@pytest.mark.parametrize(
    "wrap",
    [
        lambda c: f'"{c}"',
        lambda c: f"'{c}'",
        lambda c: f"`{c}`",
        lambda c: f"\u201c{c}\u201d",
        lambda c: f"  {c}  \n",
        lambda c: "\n".join(c[i:i + 20] for i in range(0, len(c), 20)),
        lambda c: " ".join(c[i:i + 7] for i in range(0, len(c), 7)),
        lambda c: f'" {c[:30]}\r\n{c[30:]} "',
        lambda c: f"\x1b[200~{c}\x1b[201~",
    ],
)
def test_wrapped_spaced_and_quoted_pastes_are_accepted(wrap) -> None:
    assert parse_verification_code(wrap(GOOD), STATE) == CODE


def test_code_from_another_attempt_gets_its_own_message() -> None:
    other = encode(f"state=11111111-2222-4333-8444-555555555555&code={CODE}")
    with pytest.raises(StateMismatchError, match="different login attempt") as info:
        parse_verification_code(other, STATE)
    assert CODE not in str(info.value) and other not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n ",
        "not a code!",
        GOOD[:-5] + "*" + GOOD[-5:],
        GOOD[:10],  # truncated
        encode(f"code={CODE}"),  # no state
        encode(f"state={STATE}"),  # no code
        encode(f"state={STATE}&code="),  # empty code
        encode(f"state={STATE}&state={STATE}&code={CODE}"),  # two states
        encode(f"state={STATE}&code={CODE}&code=other"),  # two codes
        encode("just some text"),
        encode("state=\x00&code=x"),
        "A" * 20000,
        "+-" + GOOD[2:],  # mixes the two alphabets
    ],
)
def test_bad_pastes_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(BadPasteError) as info:
        parse_verification_code(text, STATE)
    message = str(info.value)
    assert "code" in message.lower()
    if len(text.strip()) > 4:
        assert text.strip() not in message


@given(
    code=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                        exclude_characters="&=+%#"), min_size=8, max_size=600),
    urlsafe=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=6),
    seps=st.lists(st.sampled_from([" ", "\n", "\r\n", "\t", "  \n  "]), min_size=6, max_size=6),
    quote=st.sampled_from(["", '"', "'"]),
    strip_padding=st.booleans(),
)
def test_any_code_survives_any_wrapping(code, urlsafe, cuts, seps, quote, strip_padding) -> None:
    pasted = encode(f"state={STATE}&code={code}", urlsafe=urlsafe)
    if strip_padding and ("-" in pasted or "_" in pasted):
        # only where the padding may be left out: URL-safe base64
        pasted = pasted.rstrip("=")
    for cut, sep in sorted(zip(cuts, seps), reverse=True):
        cut = min(cut, len(pasted))
        pasted = pasted[:cut] + sep + pasted[cut:]
    pasted = f"{quote}{pasted}{quote}"
    assert parse_verification_code(pasted, STATE) == code


@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parse_verification_code(text, STATE)
    except BadPasteError:
        pass


@given(st.text(max_size=200))
def test_normalise_leaves_no_whitespace(text: str) -> None:
    assert not any(ch.isspace() for ch in normalise(text))
