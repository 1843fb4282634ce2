"""Users with roles; passwords are stored only as argon2 hashes (hashing lives in backend.access.auth)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.models.common import Role, utcnow


class UserBase(SQLModel):
    username: str = Field(index=True, unique=True, max_length=64)
    role: Role = Field(default=Role.annotator)


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = None
    # A disabled account cannot log in and its sessions stop; it keeps its name on everything it did.
    disabled: bool = False
    # Set when an admin removes the account: the row stays as a tombstone (disabled, no password) so
    # reviews and edits, which point at it, keep their author's name, and the name is never re-used by
    # someone who would then appear to have written them.
    removed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class UserPublic(UserBase):
    id: int
    disabled: bool
    removed_at: datetime | None
