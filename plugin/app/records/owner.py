"""Who may see what: every job, draft, bundle, case and notification has an owner.

The owner is the Nextcloud user named in the AppAPI request that created the record (the
``user`` column of every table). A request sees only its user's records, except:

- members of the archivist group the administrator configured (``DOSSIER_ARCHIVIST_GROUP``,
  e.g. ``档案管理员``) see every user's jobs, bundles and cases — they run the archive;
- Nextcloud administrators see the access log (checked through OCS on every request that asks
  for it, not only by the ``access_level`` of info.xml, which a proxy misconfiguration or a
  direct call to the port would bypass).

Seeing is not acting: whatever a principal sees, the app reads and writes the DMS only as the
request's own user (see :mod:`..flows` and :func:`.registry.fetch_bundle`).

:data:`SYSTEM` is the service itself and the command line on the server (the operator, who
has the database anyway); it is never derived from a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import false


@dataclass(frozen=True)
class Principal:
    """The identity a lookup is made for."""

    #: Nextcloud user id ('' for AppAPI system calls, which own nothing).
    user: str
    #: Member of the configured archivist group (or the service / operator): sees all records.
    sees_all: bool = False
    #: Nextcloud administrator (checked via OCS): may read the access log.
    admin: bool = False

    def can_see(self, owner: str) -> bool:
        """Whether a record owned by ``owner`` is visible to this principal."""
        return self.sees_all or (bool(self.user) and owner == self.user)

    def can_act_on(self, owner: str) -> bool:
        """Whether this principal may make the app act on a record (retry a job, open a
        case's folder): only its own records — the app never acts as another user."""
        return bool(self.user) and owner == self.user


#: The service's own work and the server-side command line.
SYSTEM = Principal("", sees_all=True, admin=True)


def scoped(query: Any, column: Any, viewer: Principal) -> Any:
    """``query`` restricted to the rows ``viewer`` may see (``column`` holds the owner)."""
    if viewer.sees_all:
        return query
    if not viewer.user:
        return query.where(false())
    return query.where(column == viewer.user)
