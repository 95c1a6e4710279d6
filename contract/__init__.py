"""The archive's contract, shared by the notebook service and the extension (see ``rules.py``).

The top-level ``contract/`` folder is the one source; each distribution's ``contract`` subpackage
consists of symbolic links to these files, which a wheel carries as plain files.
"""

from . import jsonsafe
from .jsonsafe import loads as json_loads
from .metadata import parse_metadata, text_field
from .rules import (
    RuleError,
    ascii_upper,
    default_licence,
    document,
    experiment_code,
    idempotency_key,
    licences,
    limit,
    name_from_title,
    notebook_name,
    orcid_url,
    schema,
    username_folder,
)

__all__ = [
    "RuleError",
    "ascii_upper",
    "default_licence",
    "document",
    "experiment_code",
    "idempotency_key",
    "json_loads",
    "jsonsafe",
    "licences",
    "limit",
    "name_from_title",
    "notebook_name",
    "orcid_url",
    "parse_metadata",
    "schema",
    "text_field",
    "username_folder",
]
