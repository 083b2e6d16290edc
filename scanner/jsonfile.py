"""Reading a JSON file given on the command line (a baseline, a report), with one-line errors."""
from __future__ import annotations

import json


class JSONFileError(Exception):
    pass


def read_json(path: str, what: str):
    """The JSON document at path; JSONFileError naming `what` and the file when it cannot be read
    or is not JSON (invalid UTF-8 included: UnicodeDecodeError is a ValueError)."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except OSError as exc:
        raise JSONFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise JSONFileError(f"{what} {path} is not JSON: {exc}") from None
