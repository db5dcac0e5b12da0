"""ORM004 examples, SQLAlchemy asyncio style. A line marked `# expect:` must be reported with that
code on that exact expression; no other line may be."""
from itertools import batched

from sqlalchemy import ForeignKey, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class AioDevice(Base):
    __tablename__ = "aio_device"
    id: Mapped[int] = mapped_column(primary_key=True)


class AioReading(Base):
    __tablename__ = "aio_reading"
    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("aio_device.id"))


async def unchunked(session: AsyncSession, device_ids: list[int]):
    return (await session.scalars(select(AioReading).where(AioReading.device_id.in_(device_ids)))).all()  # expect: ORM004 "AioReading.device_id.in_(device_ids)"


async def chunked(session: AsyncSession, device_ids: list[int]):
    out = []
    for chunk in batched(device_ids, 1000):
        out += (await session.scalars(select(AioReading).where(AioReading.device_id.in_(chunk)))).all()
    return out
