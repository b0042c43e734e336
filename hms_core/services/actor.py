"""Who is acting: the user, their role, and the installed client they act from."""

import uuid
from dataclasses import dataclass

from hms_core.rbac import Perm, role_allows
from hms_core.services.errors import PermissionDenied


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID | None
    username: str
    role: str
    client_id: str = ""
    address: str = ""

    def can(self, permission: Perm) -> bool:
        return role_allows(self.role, permission)

    def require_any(self, *permissions: Perm) -> None:
        """Raise PermissionDenied unless the role grants at least one of `permissions`."""
        if not any(self.can(p) for p in permissions):
            self.require(permissions[0])

    def require(self, permission: Perm) -> None:
        """Raise PermissionDenied unless the actor's role grants `permission`."""
        if not self.can(permission):
            raise PermissionDenied(f"Your role ({self.role}) may not do this ({permission}).")


SYSTEM = Actor(user_id=None, username="system", role="admin", client_id="server")
