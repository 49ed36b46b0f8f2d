"""Configuration classes, read from the environment at import time."""

import os


def _env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name, "").strip()
    if not value:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


class Config:
    """Production defaults; every setting can be overridden from the environment."""

    SECRET_KEY = _env_str("SECRET_KEY", "dev-insecure-change-me")
    LOG_LEVEL = _env_str("LOG_LEVEL", "INFO").upper()

    # None means: SQLite file under the Flask instance folder (see create_app).
    DATABASE_URL = _env_str("DATABASE_URL")
    # Connection pool of a server database (PostgreSQL, MySQL...): SQLAlchemy's defaults.
    DATABASE_POOL_SIZE = _env_int("DATABASE_POOL_SIZE", 5)
    DATABASE_MAX_OVERFLOW = _env_int("DATABASE_MAX_OVERFLOW", 10)

    # Language model. Without LLM_BASE_URL the embedded local responder answers.
    LLM_ENABLED = _env_bool("LLM_ENABLED", True)
    LLM_BASE_URL = _env_str("LLM_BASE_URL")
    LLM_API_KEY = _env_str("LLM_API_KEY")
    LLM_MODEL = _env_str("LLM_MODEL")
    LLM_TIMEOUT = _env_float("LLM_TIMEOUT", 30.0)
    LOCAL_RESPONDER_LATENCY_MS = _env_int("LOCAL_RESPONDER_LATENCY_MS", 0)

    CORS_ORIGINS = _env_list("CORS_ORIGINS", ["*"])
    CORS_SUPPORTS_CREDENTIALS = _env_bool("CORS_SUPPORTS_CREDENTIALS", False)

    ALLOW_REGISTRATION = _env_bool("ALLOW_REGISTRATION", True)
    AUTH_TOKEN_TTL = _env_int("AUTH_TOKEN_TTL", 7 * 24 * 3600)
    PASSWORD_HASH_METHOD = "scrypt"

    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_MESSAGE_CHARS = 8000
    HISTORY_LIMIT = 50
    DEFAULT_PAGE_SIZE = 20
    MAX_PAGE_SIZE = 100


class TestingConfig(Config):
    """Settings for the test suite: no network, fast hashing, in-memory DB by default."""

    TESTING = True
    SECRET_KEY = "testing-secret"
    LOG_LEVEL = "WARNING"
    DATABASE_URL = "sqlite://"
    LLM_ENABLED = True
    LLM_BASE_URL = None
    LLM_API_KEY = None
    LLM_MODEL = None
    LLM_TIMEOUT = 5.0
    LOCAL_RESPONDER_LATENCY_MS = 0
    CORS_ORIGINS = ("http://frontend.test",)
    CORS_SUPPORTS_CREDENTIALS = False
    ALLOW_REGISTRATION = True
    AUTH_TOKEN_TTL = 3600
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
