"""``./.env``: the one loader, shared by the ``qlocks`` command and the gunicorn factory.

The file is looked up in the *working directory* only, by explicit path: python-dotenv's ``find_dotenv()`` walks up
from the calling module's folder, which after ``pip install .`` is ``site-packages``, so it never sees ``./.env``.
Variables already in the environment win over the file.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import ConfigError

ENV_FILE = ".env"


def load_env_file(cwd: Path | None = None) -> Path | None:
    """Load ``<cwd or the working directory>/.env`` into ``os.environ`` (no overrides); the path read, or None."""
    from dotenv import load_dotenv

    path = (cwd if cwd is not None else Path.cwd()) / ENV_FILE
    if not path.is_file():
        return None
    try:
        load_dotenv(path, override=False)  # the environment wins over .env
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"{path}: cannot read it ({reason})") from None
    return path.resolve()


__all__ = ["ENV_FILE", "load_env_file"]
