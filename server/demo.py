"""Demo data: a drinks-and-groceries distributor in Ho Chi Minh City.

One admin, two managers with a team each, eight reps, four territories with
polygons, 1,200 shops placed inside them, 40 products, a month of visits,
orders and tasks before a fixed date, and each rep's route plan for that date.
Everything comes from `Random(seed)` and that fixed date, so the same seed
always gives the same data (route orders may differ where the solver finds
equally good answers), and every record is written through `sync.changes`.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from domain.models import (
    Contact,
    Customer,
    Order,
    Product,
    Quota,
    Task,
    Team,
    Territory,
    User,
    Visit,
)
from sync import create_record

from .auth.passwords import hash_password
from .route_plans.service import Planner
from .route_plans.settings import RoutingSettings

PASSWORD = "demo-pass-2026"
DOMAIN = "demo.fieldsync.dev"
#: History ends here (not "now"), so the data does not depend on the day it is loaded.
BASE = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)  # 08:00 in Ho Chi Minh City
CUSTOMERS = 1200
NO_COORDINATES_SHARE = 0.02

#: Four districts as quadrilaterals ([lon, lat] rings, closed), tiling a box of HCMC.
_WEST, _MID_LON, _EAST = 106.62, 106.70, 106.78
_SOUTH, _MID_LAT, _NORTH = 10.72, 10.79, 10.86
TERRITORIES = (
    ("Quận 1 – Bến Thành", "#e6194b", (_MID_LON, _MID_LAT, _EAST, _NORTH)),
    ("Bình Thạnh – Phú Nhuận", "#3cb44b", (_WEST, _MID_LAT, _MID_LON, _NORTH)),
    ("Quận 5 – Chợ Lớn", "#4363d8", (_WEST, _SOUTH, _MID_LON, _MID_LAT)),
    ("Quận 7 – Phú Mỹ Hưng", "#f58231", (_MID_LON, _SOUTH, _EAST, _MID_LAT)),
)

_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Võ", "Đặng", "Bùi")
_MIDDLE = ("Văn", "Thị", "Minh", "Ngọc", "Hữu", "Thanh", "Đức", "Thu")
_GIVEN = (
    "An",
    "Bình",
    "Châu",
    "Dũng",
    "Hương",
    "Lan",
    "Minh",
    "Phúc",
    "Quang",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
    "Yến",
    "Khoa",
    "Nhung",
)
_SHOP_KIND = (
    "Tạp hóa",
    "Cửa hàng",
    "Nhà thuốc",
    "Quán cà phê",
    "Siêu thị mini",
    "Đại lý",
    "Quán ăn",
    "Tiệm bánh",
)
_SHOP_NAME = (
    "Minh Châu",
    "Phúc Lộc",
    "Hồng Phát",
    "Thành Công",
    "Bảo Ngọc",
    "An Khang",
    "Kim Long",
    "Tân Tiến",
    "Hoa Sen",
    "Phương Nam",
    "Sài Gòn Xanh",
    "Mỹ Linh",
)
_ARABIC = ("بقالة النور", "سوبرماركت الأمل", "مخبز السلام", "صيدلية الشفاء", "مقهى الياسمين")
_PERSIAN = ("فروشگاه مهر", "سوپرمارکت آفتاب", "نانوایی سپیده", "داروخانه امید", "کافه نارنج")
_RUSSIAN = (
    "Магазин Берёзка",
    "Продукты Светлана",
    "Кафе Волга",
    "Аптека Здоровье",
    "Булочная Надежда",
)
_STREETS = (
    "Lê Lợi",
    "Nguyễn Huệ",
    "Hai Bà Trưng",
    "Điện Biên Phủ",
    "Cách Mạng Tháng Tám",
    "Trần Hưng Đạo",
    "Nguyễn Trãi",
    "Võ Văn Tần",
    "Pasteur",
    "Nguyễn Thị Minh Khai",
)
_PRODUCTS = (
    ("Nước mắm Phú Quốc 500ml", 42000),
    ("Nước mắm Nam Ngư 750ml", 38000),
    ("Mì gói Hảo Hảo (thùng 30)", 118000),
    ("Mì ly Cung Đình", 9000),
    ("Dầu ăn Neptune 1L", 56000),
    ("Dầu ăn Simply 2L", 115000),
    ("Gạo ST25 5kg", 190000),
    ("Nước ngọt Coca-Cola lon", 10000),
    ("Nước suối Lavie 500ml", 5000),
    ("Bia Saigon Special lon", 17000),
    ("Bia 333 (thùng 24)", 265000),
    ("Cà phê G7 hòa tan", 52000),
    ("Cà phê Trung Nguyên 500g", 98000),
    ("Sữa Vinamilk 1L", 34000),
    ("Sữa đặc Ông Thọ", 26000),
    ("Trà xanh 0 độ", 10000),
    ("Bột giặt OMO 3kg", 165000),
    ("Nước rửa chén Sunlight", 32000),
    ("Dầu gội Clear 650g", 149000),
    ("Kem đánh răng P/S", 29000),
    ("Bánh quy Cosy", 25000),
    ("Bánh ChocoPie (hộp 12)", 55000),
    ("Kẹo Alpenliebe", 21000),
    ("Đường Biên Hòa 1kg", 27000),
    ("Muối I-ốt", 6000),
    ("Hạt nêm Knorr 400g", 38000),
    ("Tương ớt Chinsu", 15000),
    ("Xì dầu Maggi", 22000),
    ("Sữa chua Vinamilk (lốc 4)", 28000),
    ("Nước tăng lực Red Bull", 12000),
    ("Trà Lipton (hộp 25)", 45000),
    ("Giấy vệ sinh Pulppy", 62000),
    ("Khăn giấy Tempo", 35000),
    ("Pin AA Panasonic", 18000),
    ("Bánh mì sandwich Kinh Đô", 24000),
    ("Phở ăn liền Vifon", 11000),
    ("Nước cam Twister", 12000),
    ("Sữa đậu nành Fami", 6000),
    ("Snack Oishi", 7000),
    ("Nước tương Tam Thái Tử", 14000),
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Seeder:
    def __init__(self, session: Session, seed: int):
        self.session = session
        self.rng = random.Random(seed)
        self.password_hash = hash_password(PASSWORD)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def add(self, model, when: datetime = BASE, **values: Any):
        return create_record(self.session, model, {"id": self.uuid(), **values}, now=when)

    def person(self) -> str:
        return f"{self.rng.choice(_FAMILY)} {self.rng.choice(_MIDDLE)} {self.rng.choice(_GIVEN)}"

    def point_in(self, box: tuple[float, float, float, float]) -> tuple[float, float]:
        west, south, east, north = box
        margin = 0.002  # keep shops off the border line
        lat = self.rng.uniform(south + margin, north - margin)
        lon = self.rng.uniform(west + margin, east - margin)
        return round(lat, 6), round(lon, 6)

    def user(self, key: str, role: str, team: Team | None, **extra) -> User:
        return self.add(
            User,
            email=f"{key}@{DOMAIN}",
            name=self.person(),
            role=role,
            team_id=team.id if team else None,
            password_hash=self.password_hash,
            locale=extra.pop("locale", "vi"),
            **extra,
        )

    def opening_hours(self) -> dict[str, list[list[str]]]:
        style = self.rng.random()
        if style < 0.6:
            day = [["07:30", "11:30"], ["13:30", "18:00"]]
            days = _DAYS[:6]
        elif style < 0.85:
            day = [["06:00", "21:00"]]
            days = _DAYS
        else:
            day = [["08:00", "17:00"]]
            days = _DAYS[:5]
        return {d: day for d in days}

    def shop_name(self, index: int) -> str:
        foreign = {0: _ARABIC, 1: _PERSIAN, 2: _RUSSIAN}
        if index < 75:  # 25 each of Arabic, Persian, Russian names
            names = foreign[index % 3]
            return f"{names[(index // 3) % len(names)]} {index // 15 + 1}"
        return f"{self.rng.choice(_SHOP_KIND)} {self.rng.choice(_SHOP_NAME)} {index}"


def seed_demo_data(session: Session, seed: int = 7) -> list[tuple[str, str, str]]:
    """Load the demo; return the logins as (email, password, role)."""
    s = _Seeder(session, seed)
    logins = [(f"admin@{DOMAIN}", PASSWORD, "admin")]
    admin = s.user("admin", "admin", None, locale="en")
    teams, reps_by_territory = [], []
    for number in (1, 2):
        team = s.add(Team, name=f"Đội {'Bắc' if number == 1 else 'Nam'} Sài Gòn")
        manager = s.user(f"manager{number}", "manager", team, locale="en" if number == 2 else "vi")
        team.managers = [manager]
        teams.append(team)
        logins.append((f"manager{number}@{DOMAIN}", PASSWORD, "manager"))
    territories = []
    for index, (name, color, box) in enumerate(TERRITORIES):
        team = teams[index // 2]
        west, south, east, north = box
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        territory = s.add(
            Territory,
            name=name,
            color=color,
            team_id=team.id,
            geometry={"type": "Polygon", "coordinates": [ring]},
        )
        reps = []
        for _ in range(2):
            number = len(logins) - 2
            home = s.point_in(box)
            rep = s.user(f"rep{number}", "rep", team, home_lat=home[0], home_lon=home[1])
            reps.append(rep)
            logins.append((f"rep{number}@{DOMAIN}", PASSWORD, "rep"))
        territory.reps = reps
        territories.append((territory, box))
        reps_by_territory.append(reps)
    products = [
        s.add(
            Product,
            sku=f"VN-{i + 1:03d}",
            name=name,
            unit_price=Decimal(price),
            currency="VND",
            active=i < 38,
        )
        for i, (name, price) in enumerate(_PRODUCTS)
    ]
    session.flush()
    for index in range(CUSTOMERS):
        slot = index % len(territories)
        territory, box = territories[slot]
        _customer_with_history(s, index, territory, box, reps_by_territory[slot], products)
        if index % 200 == 199:
            session.flush()
    session.flush()
    _plan_first_day(session, admin, [r for reps in reps_by_territory for r in reps])
    _quotas(session, admin, [r for reps in reps_by_territory for r in reps])
    return logins


def _quotas(session: Session, admin: User, reps: list[User]) -> None:
    """November targets per rep, a little above the month's pace, for quota attainment."""
    month = BASE.date().replace(day=1)
    for index, rep in enumerate(reps):
        session.add(
            Quota(
                id=uuid.UUID(int=index + 1, version=4),
                rep_id=rep.id,
                month=month,
                revenue_target=Decimal(70_000_000 + 5_000_000 * (index % 3)),
                currency="VND",
                visits_target=200 + 10 * (index % 4),
                created_at=BASE,
                updated_at=BASE,
                updated_by=admin.id,
            )
        )
    session.flush()


def _plan_first_day(session: Session, admin: User, reps: list[User]) -> None:
    """Each rep's route for the demo's day, so the app and the map have one to show."""
    settings = replace(RoutingSettings(), time_limit_s=0.3)
    planner = Planner(session, admin, settings, now=BASE)
    day = BASE.astimezone(settings.zone).date()
    for rep in reps:
        planner.plan_day(rep.id, day)


def _customer_with_history(
    s: _Seeder, index: int, territory: Territory, box, reps: list[User], products: list[Product]
) -> None:
    rng = s.rng
    tier = rng.choices("ABC", weights=(15, 35, 50))[0]
    every = {"A": 7, "B": 14, "C": 30}[tier]
    lat, lon = s.point_in(box)
    if rng.random() < NO_COORDINATES_SHARE:
        lat = lon = None
    owner = rng.choice(reps)
    customer = s.add(
        Customer,
        when=BASE - timedelta(days=60),
        name=s.shop_name(index),
        address=f"{rng.randint(1, 300)} Đường {rng.choice(_STREETS)}",
        city="Hồ Chí Minh",
        postal_code=f"7{rng.randint(0, 9)}{rng.randint(0, 9)}000",
        country="VN",
        lat=lat,
        lon=lon,
        phone=f"+84 28 {rng.randint(3000, 3999)} {rng.randint(1000, 9999)}",
        territory_id=territory.id,
        owner_id=owner.id if rng.random() < 0.9 else None,
        status=rng.choices(("active", "prospect", "lead", "inactive"), (80, 10, 6, 4))[0],
        tier=tier,
        visit_every_days=every,
        visit_minutes=rng.choice((10, 15, 20, 30, 45)),
        opening_hours=s.opening_hours(),
    )
    for _ in range(rng.randint(1, 2)):
        s.add(
            Contact,
            when=BASE - timedelta(days=60),
            customer_id=customer.id,
            name=s.person(),
            role=rng.choice(("Chủ cửa hàng", "Quản lý", "Thu ngân")),
            phone=f"+84 9{rng.randint(10000000, 99999999)}",
        )
    _history(s, customer, owner, every, products)


def _history(s: _Seeder, customer: Customer, rep: User, every: int, products) -> None:
    """Visits over the month before BASE at the customer's rhythm, orders on ~40 %."""
    rng = s.rng
    day = BASE - timedelta(days=30 - rng.randint(0, min(every, 30) - 1))
    while day < BASE:
        when = day + timedelta(minutes=rng.randint(0, 8 * 60))
        status = rng.choices(("completed", "missed", "cancelled"), (85, 10, 5))[0]
        values: dict[str, Any] = {
            "customer_id": customer.id,
            "rep_id": rep.id,
            "planned_at": when,
            "status": status,
        }
        if status == "completed":
            near = customer.lat is not None and rng.random() < 0.9
            values.update(
                check_in_at=when,
                check_in_lat=(customer.lat + rng.uniform(-0.0008, 0.0008)) if near else None,
                check_in_lon=(customer.lon + rng.uniform(-0.0008, 0.0008)) if near else None,
                check_in_accuracy_m=round(rng.uniform(5, 40), 1) if near else None,
                check_out_at=when + timedelta(minutes=customer.visit_minutes),
                outcome=rng.choices(("order", "no_order", "follow_up"), (40, 45, 15))[0],
            )
        visit = s.add(Visit, when=when, **values)
        if values.get("outcome") == "order":
            lines = [
                {
                    "product_id": str(p.id),
                    "quantity": str(rng.randint(1, 12)),
                    "unit_price": str(p.unit_price),
                    "discount_pct": rng.choice(("0", "0", "5")),
                }
                for p in rng.sample(products[:38], rng.randint(1, 4))
            ]
            s.add(
                Order,
                when=when,
                customer_id=customer.id,
                visit_id=visit.id,
                rep_id=rep.id,
                status="submitted",
                lines=lines,
                currency="VND",
                submitted_at=when,
            )
        elif values.get("outcome") == "follow_up":
            s.add(
                Task,
                when=when,
                customer_id=customer.id,
                assignee_id=rep.id,
                title="Gọi lại khách hàng",
                due_at=when + timedelta(days=3),
                done=rng.random() < 0.5,
            )
        day += timedelta(days=every + rng.randint(-1, 1))
    planned_at = BASE + timedelta(days=rng.randint(0, 4), hours=rng.randint(0, 8))
    if rng.random() < 0.2:
        s.add(
            Visit, customer_id=customer.id, rep_id=rep.id, planned_at=planned_at, status="planned"
        )
