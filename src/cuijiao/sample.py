"""A deterministic, believable sample estate (翠湖花园), small or very large.

The same spec always gives the same rows, byte for byte in CSV. Owners
follow profiles seen in practice: prompt payers (some prepaying the year),
late and partial payers, chronic refusers, owners with a service complaint,
hardship, vacant and rented units, and units still held by the developer.
All names, phones and addresses are invented.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl

from cuijiao.dates import add_months
from cuijiao.fileio import atomic_path, atomic_writer, private_dir
from cuijiao.money import format_yuan

ESTATE_NAME = "翠湖花园"
COMPANY_NAME = "翠湖物业服务有限公司"
DEVELOPER_NAME = "翠湖置业有限公司"

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华"
    "建国志红玉梅海燕晓东文博宇浩然子涵欣怡思远嘉懿梓萱一诺雨桐"
)
_CITIES = ("浙江省宁波市海曙区中山西路", "江苏省苏州市姑苏区人民路", "上海市浦东新区世纪大道",
           "安徽省合肥市蜀山区长江西路", "广东省深圳市南山区科技园路")
_GROUPS = ("公职人员", "媒体", "专家学者", "拆迁户")

PROPERTY_FEE = "物业费"
ENERGY_FEE = "公共能耗分摊费"
PARKING_FEE = "车位管理费"
DEPOSIT = "装修押金"


@dataclass(frozen=True)
class EstateSpec:
    units: int = 264
    months: int = 36
    end_year: int = 2026
    end_month: int = 11
    seed: int = 20261127
    extra_items: bool = True  # quarterly energy fee, parking, deposits; off for benchmarks

    @property
    def export_date(self) -> date:
        return date(self.end_year, self.end_month, 25)

    @property
    def first_month(self) -> date:
        return add_months(date(self.end_year, self.end_month, 1), 1 - self.months)


# Profiles and their weights (per 100 units).
_PROFILES = (("prompt", 50), ("prepay", 8), ("late", 12), ("partial", 6), ("chronic", 6),
             ("dispute", 4), ("hardship", 3), ("vacant", 4), ("rented", 6), ("developer", 1))


@dataclass
class Unit:
    unit_id: str
    building: str
    owner_name: str
    phone: str
    area: Decimal
    tags: list[str]
    address: str
    profile: str
    parking: bool


@dataclass(frozen=True)
class Charge:
    unit_id: str
    item: str
    period: str  # as the export writes it
    due: date
    fen: int


@dataclass(frozen=True)
class Payment:
    receipt_no: str
    unit_id: str
    owner_name: str
    item: str
    period: str
    fen: int
    paid_on: date
    channel: str


def build_units(spec: EstateSpec) -> list[Unit]:
    rng = random.Random(spec.seed)
    profiles = [name for name, weight in _PROFILES for _ in range(weight)]
    units = []
    for index in range(spec.units):
        building, rest = divmod(index, 48)
        entrance, rest = divmod(rest, 24)
        floor, room = divmod(rest, 2)
        unit_id = f"{building + 1}-{entrance + 1}-{floor + 1}{room + 1:02d}"
        profile = profiles[rng.randrange(len(profiles))]
        units.append(_unit(rng, unit_id, f"{building + 1}栋", profile))
    return units


def _unit(rng: random.Random, unit_id: str, building: str, profile: str) -> Unit:
    area = Decimal(rng.randrange(6500, 14500)) / 100
    name = rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))
    phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
    tags: list[str] = []
    address = ""
    if profile == "developer":
        name, phone, tags = DEVELOPER_NAME, "057188880000", ["开发商"]
    elif profile == "vacant":
        tags = ["空置"]
        address = f"{rng.choice(_CITIES)}{rng.randrange(1, 999)}号"
        phone = "" if rng.random() < 0.5 else phone
    elif profile == "dispute":
        tags = ["投诉中"]
    elif profile == "hardship":
        tags = ["困难"]
    elif profile == "rented":
        tags = ["出租"]
    if rng.random() < 0.06:
        tags.append(rng.choice(_GROUPS))
    return Unit(unit_id, building, name, phone, area, tags, address, profile, rng.random() < 0.35)


def charges_for(unit: Unit, spec: EstateSpec, rng: random.Random) -> list[Charge]:
    """Monthly property fee, quarterly energy fee, monthly parking, maybe a deposit."""
    monthly = _fen(unit.area * Decimal("1.80"))
    quarterly = _fen(unit.area * Decimal("0.30") * 3)
    charges = []
    for offset in range(spec.months):
        month = add_months(spec.first_month, offset)
        due = month.replace(day=10)
        label = f"{month.year}年{month.month}月"
        charges.append(Charge(unit.unit_id, PROPERTY_FEE, label, due, monthly))
        if not spec.extra_items:
            continue
        if month.month % 3 == 1:
            quarter = f"{month.year}Q{(month.month + 2) // 3}"
            charges.append(Charge(unit.unit_id, ENERGY_FEE, quarter, due, quarterly))
        if unit.parking:
            charges.append(Charge(unit.unit_id, PARKING_FEE, label, due, 8000))
    if spec.extra_items and rng.random() < 0.03:
        month = add_months(spec.first_month, rng.randrange(spec.months))
        charges.append(Charge(unit.unit_id, DEPOSIT, f"{month.year}年{month.month}月", month, 200000))
    return charges


def adjustments_for(unit: Unit, charges: list[Charge], rng: random.Random) -> list[Charge]:
    """减免: a disputed month cut by 30 %, and now and then a goodwill waiver."""
    fees = [c for c in charges if c.item == PROPERTY_FEE]
    if unit.profile == "dispute" or rng.random() < 0.02:
        target = fees[-rng.randrange(2, min(8, len(fees)) + 1)] if len(fees) > 1 else fees[0]
        cut = _fen(Decimal(target.fen) * Decimal("0.30") / 100)
        return [Charge(target.unit_id, target.item, target.period, target.due, -cut)]
    return []


def _fen(yuan: Decimal) -> int:
    return int(yuan.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


class _Receipts:
    """One unit's receipt numbers: the date, the unit, a count within the day.

    Numbers sort by date, as a cashier's receipt book does, and never repeat.
    """

    def __init__(self, unit_index: int) -> None:
        self.unit_index = unit_index
        self.per_day: dict[date, int] = {}

    def take(self, rng: random.Random, paid_on: date, channel: str) -> str:
        count = self.per_day[paid_on] = self.per_day.get(paid_on, 0) + 1
        if channel == "银行转账" and rng.random() < 0.5:
            return ""  # bank transfers often arrive without a receipt number
        return f"SJ{paid_on:%Y%m%d}{self.unit_index:06d}{count}"


def payments_for(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
                 receipts: _Receipts) -> list[Payment]:
    due_charges = [c for c in charges if c.item != DEPOSIT and c.fen > 0]
    behaviour = _BEHAVIOURS.get(unit.profile, _prompt)
    payments = [p for p in behaviour(unit, due_charges, spec, rng, receipts) if p.paid_on <= spec.export_date]
    return sorted(payments, key=lambda p: (p.paid_on, p.receipt_no))


def _pay(unit: Unit, rng: random.Random, receipts: _Receipts, paid_on: date, fen: int,
         charge: Charge | None = None) -> Payment:
    channel = rng.choice(("微信", "支付宝", "现金", "银行转账", "POS刷卡"))
    return Payment(receipts.take(rng, paid_on, channel), unit.unit_id, unit.owner_name,
                   charge.item if charge else "", charge.period if charge else "", fen, paid_on, channel)


def _prompt(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
            receipts: _Receipts) -> Iterator[Payment]:
    for charge in charges:
        yield _pay(unit, rng, receipts, charge.due + timedelta(days=rng.randrange(-5, 20)), charge.fen, charge)


def _prepay(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
            receipts: _Receipts) -> Iterator[Payment]:
    """Pays the coming year's fees in one undesignated payment each January."""
    for year in sorted({c.due.year for c in charges}):
        total = sum(c.fen for c in charges if c.due.year == year)
        yield _pay(unit, rng, receipts, date(year, 1, rng.randrange(3, 20)), total)


def _late(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
          receipts: _Receipts) -> Iterator[Payment]:
    """Pays everything due, undesignated, every three to six months."""
    day, owed_until = charges[0].due + timedelta(days=rng.randrange(60, 180)), 0
    while day <= spec.export_date:
        due_now = [c for c in charges if c.due < day]
        owed = sum(c.fen for c in due_now[owed_until:])
        if owed:
            yield _pay(unit, rng, receipts, day, owed)
        owed_until = len(due_now)
        day += timedelta(days=rng.randrange(90, 185))


def _partial(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
             receipts: _Receipts) -> Iterator[Payment]:
    for charge in charges[::2]:
        yield _pay(unit, rng, receipts, charge.due + timedelta(days=rng.randrange(0, 45)),
                   _fen(Decimal(charge.fen) * 2 * Decimal(rng.randrange(40, 90)) / 10000))


Behaviour = Callable[[Unit, list[Charge], EstateSpec, random.Random, "_Receipts"], Iterator[Payment]]


def _stops(months_before_end: tuple[int, int]) -> Behaviour:
    def behaviour(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
                  receipts: _Receipts) -> Iterator[Payment]:
        cutoff = add_months(spec.export_date, -rng.randrange(*months_before_end))
        for charge in charges:
            if charge.due < cutoff:
                yield _pay(unit, rng, receipts, charge.due + timedelta(days=rng.randrange(0, 30)),
                           charge.fen, charge)
    return behaviour


def _hardship(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
              receipts: _Receipts) -> Iterator[Payment]:
    day = charges[0].due + timedelta(days=rng.randrange(20, 60))
    while day <= spec.export_date:
        yield _pay(unit, rng, receipts, day, rng.randrange(100, 400) * 100)
        day += timedelta(days=rng.randrange(40, 120))


def _vacant(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
            receipts: _Receipts) -> Iterator[Payment]:
    if rng.random() < 0.4:
        return
    for year in sorted({c.due.year for c in charges})[:-1]:
        total = sum(c.fen for c in charges if c.due.year == year)
        yield _pay(unit, rng, receipts, date(year, 12, rng.randrange(1, 28)), total)


def _rented(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
            receipts: _Receipts) -> Iterator[Payment]:
    for charge in charges:
        yield _pay(unit, rng, receipts, charge.due + timedelta(days=rng.randrange(15, 75)), charge.fen, charge)


def _never(unit: Unit, charges: list[Charge], spec: EstateSpec, rng: random.Random,
           receipts: _Receipts) -> Iterator[Payment]:
    return iter(())


_BEHAVIOURS: dict[str, Behaviour] = {
    "prompt": _prompt, "prepay": _prepay, "late": _late, "partial": _partial,
    "chronic": _stops((12, 31)), "dispute": _stops((3, 9)), "hardship": _hardship,
    "vacant": _vacant, "rented": _rented, "developer": _never,
}


# --- Writing ----------------------------------------------------------------

UNIT_HEADERS = ("房号", "楼栋", "业主姓名", "联系电话", "建筑面积（㎡）", "业主标签", "通讯地址", "备注")
CHARGE_HEADERS = ("房号", "收费项目", "所属期间", "应缴日期", "应收金额", "备注")
PAYMENT_HEADERS = ("收据号", "房号", "业主", "收费项目", "所属期间", "实收金额", "收款日期", "收款方式")


def _amount_text(fen: int) -> str:
    return format_yuan(fen, grouping=True)


def _date_text(day: date) -> str:
    return f"{day.year}/{day.month}/{day.day}"


def unit_rows(units: list[Unit]) -> Iterator[list[object]]:
    for u in units:
        yield [u.unit_id, u.building, u.owner_name, u.phone, str(u.area), "、".join(u.tags), u.address, ""]


def estate_rows(spec: EstateSpec) -> tuple[list[Unit], Iterator[list[object]], Iterator[list[object]]]:
    """Units, then charge rows and payment rows, generated lazily unit by unit.

    Each stream replays the seeded generator, so both see the same estate
    without holding millions of rows in memory.
    """
    units = build_units(spec)
    return units, _charges_only(units, spec), _payments_only(units, spec)


def _ledger(units: list[Unit], spec: EstateSpec) -> Iterator[tuple[list[Charge], list[Payment]]]:
    rng = random.Random(spec.seed + 1)
    for index, unit in enumerate(units):
        charges = charges_for(unit, spec, rng)
        adjustments = adjustments_for(unit, charges, rng)
        yield charges + adjustments, payments_for(unit, charges, spec, rng, _Receipts(index))


def _charges_only(units: list[Unit], spec: EstateSpec) -> Iterator[list[object]]:
    for charges, _ in _ledger(units, spec):
        for c in charges:
            yield [c.unit_id, c.item, c.period, _date_text(c.due), _amount_text(c.fen),
                   "减免" if c.fen < 0 else ""]


def _payments_only(units: list[Unit], spec: EstateSpec) -> Iterator[list[object]]:
    for _, payments in _ledger(units, spec):
        for p in payments:
            yield [p.receipt_no, p.unit_id, p.owner_name, p.item, p.period, _amount_text(p.fen),
                   p.paid_on, p.channel]


def write_csv(path: Path, title: str, headers: tuple[str, ...], rows: Iterator[list[object]],
              *, encoding: str = "gb18030", totals_column: int | None = None) -> int:
    """A billing-system style export: title line, blank line, header, rows, 合计."""
    count, total = 0, 0
    with atomic_writer(path, encoding=encoding, newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([title])
        writer.writerow([])
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_date_text(v) if isinstance(v, date) else v for v in row])
            if totals_column is not None:
                total += _parse_generated(str(row[totals_column]))
            count += 1
        if totals_column is not None:
            writer.writerow(["合计", *[""] * (totals_column - 1), _amount_text(total)])
    return count


def _parse_generated(text: str) -> int:
    whole, _, cents = text.replace(",", "").partition(".")
    sign = -1 if whole.startswith("-") else 1
    return sign * (abs(int(whole)) * 100 + int(cents or 0))


_FIXED_TIME = datetime(2026, 11, 25, 18, 0, 0)


def write_xlsx(path: Path, title: str, headers: tuple[str, ...], rows: Iterator[list[object]],
               *, totals_column: int | None = None) -> int:
    """A workbook with a title row, an export-date row, the header, rows and 合计."""
    # The path first: a write-only sheet never saved spills lxml errors when it is collected.
    with atomic_path(path) as temp:
        workbook = openpyxl.Workbook(write_only=True)
        workbook.properties.created = workbook.properties.modified = _FIXED_TIME
        sheet = workbook.create_sheet("导出数据")
        sheet.append([title])
        sheet.append([f"导出日期：{_FIXED_TIME:%Y-%m-%d}"])
        sheet.append(list(headers))
        count, total = 0, 0
        for row in rows:
            sheet.append(row)
            if totals_column is not None:
                total += _parse_generated(str(row[totals_column]))
            count += 1
        if totals_column is not None:
            sheet.append(["合计", *[""] * (totals_column - 1), _amount_text(total)])
        workbook.save(temp)
    return count


def write_estate(directory: Path, spec: EstateSpec, *, formats: tuple[str, str, str] = ("xlsx", "csv", "xlsx"),
                 encoding: str = "gb18030") -> dict[str, Path]:
    """Write units, charges and payments files; returns kind → path."""
    private_dir(directory)
    units, charges, payments = estate_rows(spec)
    streams = {
        "units": (f"{ESTATE_NAME}房屋业主信息", UNIT_HEADERS, unit_rows(units), None),
        "charges": (f"{ESTATE_NAME}应收明细", CHARGE_HEADERS, charges, 4),
        "payments": (f"{ESTATE_NAME}实收明细", PAYMENT_HEADERS, payments, 5),
    }
    written = {}
    for (kind, (title, headers, rows, totals)), fmt in zip(streams.items(), formats, strict=True):
        path = directory / f"{kind}.{fmt}"
        if fmt == "csv":
            write_csv(path, title, headers, rows, encoding=encoding, totals_column=totals)
        else:
            write_xlsx(path, title, headers, rows, totals_column=totals)
        written[kind] = path
    return written
