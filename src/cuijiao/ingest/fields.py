"""The fields cuijiao reads, their Chinese labels and header synonyms.

Column mapping is data: a workspace adds its own synonyms in ``cuijiao.toml``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    synonyms: tuple[str, ...]


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("unit_id", "房号", ("房号", "房屋编号", "房间号", "单元号", "房屋编码", "unit", "unit_id")),
        Field("building", "楼栋", ("楼栋", "楼号", "楼宇", "楼栋号", "building")),
        Field("owner_name", "业主姓名", ("业主姓名", "业主", "客户名称", "姓名", "业主名称", "owner", "owner_name")),
        Field("phone", "联系电话", ("联系电话", "手机", "手机号", "电话", "手机号码", "phone")),
        Field("area_m2", "建筑面积", ("建筑面积", "面积", "area", "area_m2")),
        Field("tags", "标签", ("标签", "业主标签", "tags")),
        Field("address", "通讯地址", ("通讯地址", "联系地址", "邮寄地址", "address")),
        Field("item", "收费项目", ("收费项目", "费项", "项目", "费用项目", "费用名称", "item")),
        Field("period", "所属期间", ("所属期间", "计费期间", "账期", "费用期间", "所属期", "period")),
        Field("due_date", "应缴日期", ("应缴日期", "缴费期限", "到期日", "应收日期", "due_date")),
        Field("amount", "金额", ("金额", "amount")),
        Field("paid_on", "收款日期", ("收款日期", "缴费日期", "实收日期", "paid_on")),
        Field("receipt_no", "收据号", ("收据号", "票据号", "单据号", "收据编号", "receipt_no")),
        Field("bill_no", "账单号", ("账单号", "账单编号", "应收单号", "bill_no")),
    )
}


@dataclass(frozen=True)
class Schema:
    """Which fields one kind of file must and may carry."""

    kind: str
    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    # Headers that mean a field only in this kind of file: 应收金额 is the
    # amount of a charge, while a payments export may carry it beside 实收金额.
    own_synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


SCHEMAS: dict[str, Schema] = {
    "units": Schema(
        "units", "房屋业主", ("unit_id", "building", "owner_name", "phone", "area_m2"), ("tags", "address")
    ),
    "charges": Schema(
        "charges",
        "应收",
        ("unit_id", "item", "period", "due_date", "amount"),
        ("bill_no",),
        (("amount", ("应收金额", "应缴金额", "本期应收")),),
    ),
    "payments": Schema(
        "payments",
        "实收",
        ("unit_id", "amount", "paid_on"),
        ("receipt_no", "item", "period"),
        (("amount", ("实收金额", "缴费金额", "收款金额", "本次实收")),),
    ),
}

_UNIT_SUFFIX = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]$")


def normalize_header(text: object) -> str:
    """``" 应收金额（元）* "`` → ``"应收金额"``: what synonyms are compared on."""
    value = unicodedata.normalize("NFKC", str(text if text is not None else "")).strip()
    value = value.strip("*＊").strip()
    value = _UNIT_SUFFIX.sub("", value).strip()
    return value.replace(" ", "").lower()


def synonym_table(schema: Schema, extra: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Normalized header → field name for one kind of file.

    Built-in synonyms, then the kind's own, then the workspace's own; only the
    fields of ``schema`` are mapped, so other columns are simply ignored.
    """
    table: dict[str, str] = {}
    sources = [(name, FIELDS[name].synonyms) for name in schema.fields]
    sources += [(name, words) for name, words in schema.own_synonyms]
    sources += [(name, extra.get(name, ())) for name in schema.fields]
    for name, words in sources:
        for word in words:
            table[normalize_header(word)] = name
    return table
