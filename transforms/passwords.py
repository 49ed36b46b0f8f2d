"""werkzeug.security's password hashing -> the runtime's equal functions, werkzeug-free.

Targets runtime/flask2fastapi_runtime/passwords.py (no FastAPI page: FastAPI's security docs hash
with a library of the app's choosing). ``generate_password_hash`` and ``check_password_hash``
of the runtime take the same parameters, write and read werkzeug 3.x's formats byte for byte
(scrypt, pbkdf2, the salt alphabet) and refuse what werkzeug refuses, so every use of werkzeug's
converts, wherever it is (a view, a model's method, a test, a CLI command): the hashes the
Flask deployment stored keep verifying. The import of werkzeug goes with its last use, and the
runtime's takes its name, so the code that calls them reads as before.
"""

from __future__ import annotations

import libcst as cst

from codemod.transform import Example, Transform
from transforms._flask import RUNTIME

# werkzeug's name -> the runtime's
FUNCTIONS = {
    "werkzeug.security.generate_password_hash": "generate_password_hash",
    "werkzeug.security.check_password_hash": "check_password_hash",
}


class PasswordsTransform(Transform):
    NAME = "passwords"
    DESCRIPTION = "werkzeug.security.generate/check_password_hash -> the runtime's (werkzeug's formats, no werkzeug)"
    # a module hashing passwords need not mention Flask at all
    PREFILTER = (b"werkzeug",)
    EXAMPLES = (
        Example(
            """\
            from werkzeug.security import check_password_hash, generate_password_hash


            class User:
                def set_password(self, password):
                    self.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")

                def check_password(self, password):
                    return check_password_hash(self.password_hash, password)
            """,
            """\
            from flask2fastapi_runtime import check_password_hash, generate_password_hash


            class User:
                def set_password(self, password):
                    self.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")

                def check_password(self, password):
                    return check_password_hash(self.password_hash, password)
            """,
            title="the runtime's functions take werkzeug's names",
        ),
        Example(
            """\
            from werkzeug import security
            from werkzeug.security import generate_password_hash as hash_it, safe_join

            def hashed(password):
                return hash_it(password), security.check_password_hash

            def joined(path):
                return safe_join("/srv", path)
            """,
            """\
            from werkzeug.security import safe_join
            from flask2fastapi_runtime import check_password_hash, generate_password_hash as hash_it

            def hashed(password):
                return hash_it(password), check_password_hash

            def joined(path):
                return safe_join("/srv", path)
            """,
            title="an alias, a module attribute and a function passed on; werkzeug's other names stay",
        ),
        Example(
            """\
            from passlib.hash import pbkdf2_sha256
            from werkzeug.security import generate_password_hash


            def check_password_hash(pwhash, password):
                return pbkdf2_sha256.verify(password, pwhash)


            def hashed(generate_password_hash):
                return generate_password_hash("x")
            """,
            title="a function of the project named alike, a parameter shadowing the import: unchanged",
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.in_import = 0

    def visit_Import(self, node: cst.Import) -> None:
        self.in_import += 1

    def leave_Import(self, original_node: cst.Import, updated_node: cst.Import) -> cst.Import:
        self.in_import -= 1
        return updated_node

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.in_import += 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom) -> cst.ImportFrom:
        self.in_import -= 1
        return updated_node

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self._replaced(original_node, updated_node)

    def leave_Attribute(self, original_node: cst.Attribute, updated_node: cst.Attribute) -> cst.BaseExpression:
        return self._replaced(original_node, updated_node)

    def _replaced(self, original: cst.Name | cst.Attribute, updated: cst.BaseExpression) -> cst.BaseExpression:
        if self.in_import:
            return updated
        found = self.qualified_names(original) & FUNCTIONS.keys()
        if len(found) != 1 or len(self.qualified_names(original)) != 1:
            return updated
        (werkzeug,) = found
        self.consume(original)
        return self.import_reference(
            original, RUNTIME, FUNCTIONS[werkzeug], replaces=False, supersedes=lambda imported: imported == werkzeug
        )
