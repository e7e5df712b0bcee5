"""Masking of personal data for anything shown on a screen or in a list (PIPL)."""

from __future__ import annotations

import re

_MASKED_FIELDS = {"owner_name": "name", "phone": "phone", "signer": "name", "address": "address"}


def mask_name(name: str) -> str:
    """``张三`` → ``张*``; ``欧阳娜娜`` → ``欧***``: enough to recognise, not to identify."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(phone: str) -> str:
    """``13800138000`` → ``138****8000``; short numbers keep only their last two digits."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 3:
        return "*" * (len(digits) - 2) + digits[-2:]
    return "*" * len(digits)


def mask_address(address: str) -> str:
    return address[:6] + "****" if len(address) > 6 else "****" if address else ""


def mask_value(field: str, value: object) -> object:
    """Mask ``value`` when ``field`` names personal data; anything else is returned as is."""
    kind = _MASKED_FIELDS.get(field)
    if not isinstance(value, str) or kind is None:
        return value
    if kind == "name":
        return mask_name(value)
    return mask_phone(value) if kind == "phone" else mask_address(value)


def mask_payload(value: object) -> object:
    """Mask personal fields anywhere inside an audit payload (dicts and lists)."""
    if isinstance(value, dict):
        return {k: _mask_entry(k, v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_payload(item) for item in value]
    return value


# Free text a clerk typed about an owner (notes, reasons for a dispute or hold):
# it may say anything about a person, so it is hidden unless unmasked.
_FREE_TEXT = ("note", "reason")


def mask_text(text: str) -> str:
    """``月中发工资后缴`` → ``月中…（已隐藏 7 字）``: there is a note, and not what it says."""
    text = text.strip()
    return f"{text[:2]}…（已隐藏 {len(text)} 字）" if len(text) > 2 else "*" * len(text)


def mask_event(kind: str, payload: dict[str, object]) -> object:
    """An audit event's payload as ``audit log`` shows it by default: personal fields and free text masked."""
    masked = mask_payload(payload)
    if isinstance(masked, dict) and kind.startswith(("outcome.", "notice.delivered")):
        for key in _FREE_TEXT:
            if isinstance(masked.get(key), str) and masked[key]:
                masked[key] = mask_text(str(masked[key]))
    return masked


# Command-line options whose value is a person's name or number.
_PERSONAL_OPTIONS = {"--signer": mask_name, "--phone": mask_phone, "--note": mask_text, "--reason": mask_text}


def mask_arguments(arguments: list[object]) -> list[object]:
    """A recorded command line with the values of personal options masked."""
    masked: list[object] = []
    for index, word in enumerate(arguments):
        option = arguments[index - 1] if index else None
        mask = _PERSONAL_OPTIONS.get(str(option)) if option is not None else None
        masked.append(mask(word) if mask and isinstance(word, str) else word)
    return masked


def _mask_entry(key: str, value: object) -> object:
    if key == "arguments" and isinstance(value, list):
        return mask_arguments(value)
    if key in _MASKED_FIELDS and isinstance(value, dict):  # {"before": …, "after": …}
        return {k: mask_value(key, v) for k, v in value.items()}
    return mask_value(key, value) if key in _MASKED_FIELDS else mask_payload(value)
