"""Stage-1 texts as ``sms.csv``: one row per mobile number, counted in SMS parts. Returns bytes.

Each row's number is the first mainland mobile number in the owner's phone cell
(:func:`cuijiao.phones.first_mobile`): a cell with two numbers texts the first, and a
cell with none (empty, a landline) gets no row — :func:`no_mobile` lists those units
so the clerk calls them instead.

An SMS in Chinese is UCS-2: 70 characters fit one message; longer ones go as
parts of 67. The CSV is UTF-8 with BOM (Excel opens it), and a cell that a
spreadsheet would read as a formula is neutralised with a leading apostrophe
(``reports.cells``, shared by every CSV writer).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from cuijiao.money import format_yuan
from cuijiao.phones import first_mobile
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
    """One row per mobile number (an owner of several units gets one text naming them all)."""
    by_phone: dict[str, list[Text]] = {}
    for text in texts:
        mobile = first_mobile(text.phone)
        if mobile is not None:
            by_phone.setdefault(mobile, []).append(text)
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


def no_mobile(texts: Sequence[Text]) -> list[str]:
    """The units of ``texts`` that get no text: their phone cell holds no mainland mobile number."""
    return list(dict.fromkeys(text.unit_id for text in texts if first_mobile(text.phone) is None))


def no_mobile_line(units: Sequence[str]) -> str:
    """The clerk's line naming the units ``sms.csv`` leaves out (their call sheet row has the cell as written)."""
    return (f"短信清单未列入 {len(units)} 户（联系电话中没有有效的手机号，请按催费记录表电话联系或上门）："
            + "、".join(units))
