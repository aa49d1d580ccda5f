"""One documented operation of the API (:class:`Route`), as ``app.web.api.operations`` and
``operations_compat`` list them and ``app.web.api.openapi`` turns them into the document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import BaseModel

#: Where a model's schema is, in the document.
REF = "#/components/schemas/{model}"
JSON = "application/json"


@dataclass(frozen=True)
class Route:
    """One operation: ``path`` in OpenAPI form (``/api/v1/tasks/{task_id}``), ``method`` lower
    case, ``responses`` status -> description, (description, schema), or a whole OpenAPI
    response object (a dict, for several content types)."""

    method: str
    path: str
    summary: str
    tag: str
    responses: dict
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body_required: bool = True
    #: name -> description, or (description, JSON schema) where more than a string is meant
    path_params: dict[str, str | tuple[str, dict]] = field(default_factory=dict)
    header_params: dict[str, str] = field(default_factory=dict)  # name -> description


def ref(name: str) -> dict:
    """A JSON schema that points at the model ``name`` in the document."""
    return {"$ref": REF.format(model=name)}
