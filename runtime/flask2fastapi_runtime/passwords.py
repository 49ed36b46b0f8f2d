"""werkzeug's password hashes, without werkzeug: ``generate_password_hash`` and
``check_password_hash`` as ``werkzeug.security`` 3.x has them, on hashlib, hmac and secrets.

A converted project that stored its users' passwords with ``werkzeug.security`` keeps those
hashes: they must go on verifying after the cutover (no one is logged out, no reset), and new
ones must verify under werkzeug too (a rollback). No maintained library reads and writes
werkzeug's format (passlib and pwdlib have schemes of their own), so this module does, with the
same two functions, parameters, formats, defaults and errors:

- ``scrypt:N:r:p$salt$hex`` (``method="scrypt"``, werkzeug's default: ``scrypt:32768:8:1``);
  ``hashlib.scrypt`` with werkzeug's ``maxmem`` of ``132 * N * r * p`` bytes;
- ``pbkdf2:<hash>:<iterations>$salt$hex`` (``method="pbkdf2"``, ``"pbkdf2:sha512"`` or
  ``"pbkdf2:sha256:1000"``); werkzeug 3.1's default of 1,000,000 iterations (3.0 used 600,000;
  a stored hash names its own count, so both verify);
- the salt: ``salt_length`` characters (16 by default) drawn with ``secrets`` from werkzeug's
  alphabet of ASCII letters and digits, used as its UTF-8 bytes; the password's UTF-8 bytes;
- ``check_password_hash`` compares in constant time (``hmac.compare_digest``), answers False for
  a hash without two ``$``, and raises ValueError for a method werkzeug refuses (a plain
  ``sha256$...`` hash of werkzeug 2, an unknown name, a bad parameter), as werkzeug does.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string

__all__ = ["check_password_hash", "generate_password_hash"]

SALT_CHARS = string.ascii_lowercase + string.ascii_uppercase + string.digits  # werkzeug's order
DEFAULT_PBKDF2_ITERATIONS = 1_000_000  # werkzeug 3.1
SCRYPT_DEFAULTS = (2**15, 8, 1)  # N, r, p


def gen_salt(length: int) -> str:
    """``length`` random characters of SALT_CHARS."""
    if length <= 0:
        raise ValueError("Salt length must be at least 1.")
    return "".join(secrets.choice(SALT_CHARS) for _ in range(length))


def _derive(method: str, salt: str, password: str) -> tuple[str, str]:
    """(the hex digest, the method with every parameter written out) of ``password``."""
    name, *args = method.split(":")
    if name == "scrypt":
        if args:
            try:
                n, r, p = (int(arg) for arg in args)
            except ValueError:
                raise ValueError("'scrypt' takes 3 arguments.") from None
        else:
            n, r, p = SCRYPT_DEFAULTS
        digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p)
        return digest.hex(), f"scrypt:{n}:{r}:{p}"
    if name == "pbkdf2":
        if len(args) > 2:
            raise ValueError("'pbkdf2' takes 2 arguments.")
        hash_name = args[0] if args else "sha256"
        iterations = int(args[1]) if len(args) == 2 else DEFAULT_PBKDF2_ITERATIONS
        digest = hashlib.pbkdf2_hmac(hash_name, password.encode(), salt.encode(), iterations)
        return digest.hex(), f"pbkdf2:{hash_name}:{iterations}"
    raise ValueError(f"Invalid hash method '{name}'.")


def generate_password_hash(password: str, method: str = "scrypt", salt_length: int = 16) -> str:
    """``<method>$<salt>$<hex digest>`` of ``password``, as werkzeug writes it."""
    salt = gen_salt(salt_length)
    digest, written = _derive(method, salt, password)
    return f"{written}${salt}${digest}"


def check_password_hash(pwhash: str, password: str) -> bool:
    """Whether ``password`` is the one ``pwhash`` (werkzeug's format) was made from."""
    try:
        method, salt, digest = pwhash.split("$", 2)
    except ValueError:
        return False
    return hmac.compare_digest(_derive(method, salt, password)[0], digest)
