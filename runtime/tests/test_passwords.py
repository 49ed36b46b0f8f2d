"""The runtime's password hashes are werkzeug's: each verifies what the other wrote, for every
method and way of writing its parameters, and both refuse the same hashes the same way."""

from __future__ import annotations

import re

import pytest
from werkzeug import security as werkzeug

from flask2fastapi_runtime import passwords
from flask2fastapi_runtime.passwords import check_password_hash, generate_password_hash

# (method as an app passes it, the method as the hash spells it out); a lowered work factor
# where the default would make the test slow is the same code path with another number
METHODS = [
    ("scrypt", "scrypt:32768:8:1"),
    ("scrypt:16384:8:1", "scrypt:16384:8:1"),
    ("scrypt:1024:4:2", "scrypt:1024:4:2"),
    ("pbkdf2:sha256:1000", "pbkdf2:sha256:1000"),  # the chatbot's TestingConfig
    ("pbkdf2:sha512:2000", "pbkdf2:sha512:2000"),
    ("pbkdf2:sha1:1000", "pbkdf2:sha1:1000"),
    ("pbkdf2:md5:1000", "pbkdf2:md5:1000"),
]
DEFAULT_ITERATIONS = [("pbkdf2", "pbkdf2:sha256:"), ("pbkdf2:sha512", "pbkdf2:sha512:")]
PASSWORDS = ["correct horse", "pässwörd ✓", "", "a$b:c", "x" * 200]


@pytest.mark.parametrize("method, written", METHODS)
@pytest.mark.parametrize("password", PASSWORDS)
def test_each_verifies_what_the_other_wrote(method: str, written: str, password: str) -> None:
    ours = generate_password_hash(password, method=method)
    theirs = werkzeug.generate_password_hash(password, method=method)
    for pwhash in (ours, theirs):
        assert pwhash.startswith(written + "$")
        assert check_password_hash(pwhash, password) and werkzeug.check_password_hash(pwhash, password)
        assert not check_password_hash(pwhash, password + "!")
        assert not werkzeug.check_password_hash(pwhash, password + "!")


@pytest.mark.parametrize("method, written", DEFAULT_ITERATIONS)
def test_pbkdf2_without_a_count_takes_werkzeug_31s(method: str, written: str) -> None:
    ours = generate_password_hash("secret", method=method)
    assert ours.startswith(f"{written}1000000$")
    assert werkzeug.check_password_hash(ours, "secret")
    assert check_password_hash(werkzeug.generate_password_hash("secret", method=method), "secret")


def test_the_default_method_is_scrypt() -> None:
    ours = generate_password_hash("secret")
    assert ours.startswith("scrypt:32768:8:1$")
    assert werkzeug.check_password_hash(ours, "secret")
    assert check_password_hash(werkzeug.generate_password_hash("secret"), "secret")


def test_same_digest_for_the_same_salt() -> None:
    """Not just mutually accepted: the same bytes, so nothing depends on how either checks."""
    for method, _ in METHODS:
        salt = "AbCdEfGh12345678"
        assert passwords._derive(method, salt, "pw") == werkzeug._hash_internal(method, salt, "pw")


@pytest.mark.parametrize("length", [1, 8, 16, 40])
def test_salt_alphabet_and_length(length: int) -> None:
    salt = generate_password_hash("pw", method="pbkdf2:sha256:1", salt_length=length).split("$")[1]
    assert len(salt) == length and re.fullmatch(r"[A-Za-z0-9]+", salt)
    assert passwords.SALT_CHARS == werkzeug.SALT_CHARS
    assert len({generate_password_hash("pw", method="pbkdf2:sha256:1") for _ in range(5)}) == 5  # salted


def test_keyword_names_are_werkzeugs() -> None:
    pwhash = generate_password_hash(password="pw", method="pbkdf2:sha256:1", salt_length=4)
    assert check_password_hash(pwhash=pwhash, password="pw")


@pytest.mark.parametrize(
    "pwhash",
    [
        "",
        "no dollars",
        "pbkdf2:sha256:1000$only-one",
        "sha256$salt$abc",  # werkzeug 2's plain hashes: refused since 3.0
        "md5$salt$abc",
        "scrypt:1:2$salt$abc",
        "scrypt:a:b:c$salt$abc",
        "pbkdf2:sha256:1:2$salt$abc",
        "pbkdf2:sha256:many$salt$abc",
        "pbkdf2:nohash:10$salt$abc",
    ],
)
def test_refused_hashes_are_refused_alike(pwhash: str) -> None:
    try:
        expected: object = werkzeug.check_password_hash(pwhash, "pw")
    except ValueError as error:
        expected = (ValueError, str(error))
    try:
        got: object = check_password_hash(pwhash, "pw")
    except ValueError as error:
        got = (ValueError, str(error))
    assert got == expected


@pytest.mark.parametrize(
    "method, length", [("sha256", 16), ("scrypt:1:2", 16), ("pbkdf2:sha256:1:2", 16), ("pbkdf2", 0), ("scrypt", -1)]
)
def test_refused_methods_raise_alike(method: str, length: int) -> None:
    with pytest.raises(ValueError) as theirs:
        werkzeug.generate_password_hash("pw", method=method, salt_length=length)
    with pytest.raises(ValueError) as ours:
        generate_password_hash("pw", method=method, salt_length=length)
    assert str(ours.value) == str(theirs.value)


def test_no_werkzeug_needed() -> None:
    source = passwords.__file__
    with open(source, encoding="utf-8") as file:
        text = file.read()
    assert not re.search(r"^\s*(from|import) (werkzeug|flask)", text, re.M)
