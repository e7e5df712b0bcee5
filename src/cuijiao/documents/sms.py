"""Stage-1 texts as ``sms.csv``: one row per phone, counted in SMS parts. Returns bytes.

An SMS in Chinese is UCS-2: 70 characters fit one message; longer ones go as
parts of 67. The CSV is UTF-8 with BOM (Excel opens it), and a cell that a
spreadsheet would read as a formula is neutralised with a leading apostrophe
(``reports.cells``, shared by every CSV writer).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from cuijiao.money import format_yuan
from cuijiao.reports.cells import csv_row

SINGLE, PART = 70, 67
HEADER = ("手机号", "房号", "通知编号", "短信内容", "字数", "条数")


@dataclass(frozen=True)
class Text:
    phone: str
    unit_id: str
    notice_no: str
    owner_name: str
    amount_fen: int
    deadline: date
    items: tuple[str, ...] = ()  # the fee items the notice demands (车位管理费, 物业服务费 …)


def fee_word(items: Sequence[str]) -> str:
    """The owed items by name when there is one, else the neutral 费用."""
    names = sorted(set(items))
    return names[0] if len(names) == 1 else "费用"


def parts(text: str) -> int:
    return 1 if len(text) <= SINGLE else math.ceil(len(text) / PART)


def message(estate: str, units: Sequence[str], amount: str, deadline: date, phone: str, fee: str = "费用") -> str:
    """Short enough for one SMS with a one-unit owner and a typical estate name (≤ 70 characters)."""
    return (f"【{estate}物业】您的房屋{'、'.join(units)}{fee}尚欠{amount}元，请于{deadline.month}月{deadline.day}日前"
            f"缴纳，已缴请忽略。详询{phone}")


def sms_csv(texts: Sequence[Text], estate: str, contact_phone: str) -> bytes:
    """One row per phone number (an owner of several units gets one text naming them all)."""
    by_phone: dict[str, list[Text]] = {}
    for text in texts:
        digits = re.sub(r"\D", "", text.phone)
        if len(digits) >= 7:
            by_phone.setdefault(digits, []).append(text)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for phone, group in by_phone.items():
        amount = format_yuan(sum(t.amount_fen for t in group), grouping=True)
        body = message(estate, [t.unit_id for t in group], amount, group[0].deadline, contact_phone,
                       fee_word([item for t in group for item in t.items]))
        writer.writerow(csv_row((phone, "、".join(t.unit_id for t in group), "、".join(t.notice_no for t in group),
                                 body, str(len(body)), str(parts(body)))))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
