"""Users with roles; passwords are stored only as argon2 hashes (hashing lives in backend.auth)."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from db.models.common import Role, utcnow


class UserBase(SQLModel):
    username: str = Field(index=True, unique=True, max_length=64)
    role: Role = Field(default=Role.annotator)


class User(UserBase, table=True):
    id: int | None = Field(default=None, primary_key=True)
    password_hash: str | None = None
    created_at: datetime = Field(default_factory=utcnow)


class UserPublic(UserBase):
    id: int
