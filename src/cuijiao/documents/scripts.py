"""Call scripts (话术) for the caller: by stage, by segment, in a tone chosen by the owner's group.

A call follows the handbook's order: greet and introduce yourself; confirm the
person and the unit; state the periods, amount and deadline; ask why; handle
the objection or log the complaint; agree a date or a plan; repeat it back,
thank them, record the promise. What changes is the opening and the tone.
Nothing here threatens what the law forbids (the same words as the letters).
"""

from __future__ import annotations

from collections.abc import Sequence

# owner-group tags the handbook names → how to speak to them
TONES: dict[str, str] = {
    "成功人士": "简洁高效，先说结论和金额，提供转账等最省时的缴费方式，不纠缠细节。",
    "管理人员": "讲规则与流程，说明合同约定和账目依据，请对方安排时间处理。",
    "公职人员": "语气庄重、依法依规，说明合同约定与民法典第九百四十四条，避免任何可能被理解为施压的说法。",
    "专家学者": "讲事实与依据，主动提供欠费明细和计费标准，欢迎对方核对、提出意见。",
    "地产人士": "谈合同与行业惯例，可直接讨论分期或对账，尊重其专业判断。",
    "媒体人士": "措辞严谨、只陈述事实，认真记录其意见，不作任何承诺以外的表态。",
    "海归人士": "讲契约与服务，说明费用构成与服务内容，提供线上缴费方式。",
    "拆迁户": "耐心倾听，照顾感受，说明费用来由，可提供分期方案。",
    "老年业主": "语速放慢、音量适中，多次确认，必要时请其子女协助或上门服务。",
    "租户": "联系实际居住人了解情况并请其转告业主；缴费责任在业主，书面通知寄送业主。",
}
DEFAULT_TONE = "礼貌友善，耐心说明。"

OPENINGS: dict[str, str] = {
    "dispute": "先问投诉处理得怎么样、还有什么不满意，记录新的问题；不谈升级措施，邀请面谈。",
    "hardship": "关心近况，主动介绍分期缴费方案（不收滞纳金），约定签署还款承诺书的时间。",
    "developer": "联系开发商财务或对接人，核对名下各户欠费清单，约定对账与付款时间。",
    "absentee": "确认业主现在的联系方式和通讯地址；告知书面通知将以 EMS 寄往通讯地址。",
    "tenant": "先联系居住人核实情况，再联系业主本人：缴费责任在业主（物业管理条例第四十一条）。",
    "chronic": "说明已多次书面催缴，本次为最后一次电话沟通，请对方在期限内缴清或提出分期方案。",
    "reminder": "友好提醒，告知欠费金额和缴费方式，询问是否遗忘。",
}

STAGE_LINES: dict[int, str] = {
    1: "“您好，我是{company}{contact}的工作人员。您{unit}的物业费截至目前还有{amount}元未缴，"
       "可能是您最近比较忙。您看什么时候方便缴一下？可以到前台，也可以转账。”",
    2: "“您好，我们已向您送达/寄出了催缴通知书（编号 {notice_no}），{unit}欠费{amount}元，"
       "缴费期限是{deadline}。请问您这边有什么困难或疑问吗？”",
    3: "“您好，关于{unit}的物业费，我们已发过{stage_name}，目前仍欠{amount}元，期限是{deadline}。"
       "逾期未缴，公司将依法申请支付令或起诉。您看能否在期限前缴清，或者和我们约定分期？”",
    4: "“您好，公司已委托律师就{unit}欠费{amount}元向您发出律师函。请您在{deadline}前缴清，"
       "如对金额有异议请提供凭证，我们会核对。”",
    5: "“您好，{unit}欠费{amount}元，公司已准备诉讼材料。如您愿意在起诉前缴清或签署还款承诺，请联系我们。”",
}
CLOSING = ("结束前：复述约定的金额和日期，感谢对方；挂断后在“通话结果”“承诺日期”栏记录，"
           "承诺缴费的用 cuijiao record promise 登记。")


def tone_for(tags: Sequence[str]) -> tuple[str, str]:
    """The first owner-group tag the handbook names, and its tone."""
    for tag in tags:
        if tag in TONES:
            return tag, TONES[tag]
    return "", DEFAULT_TONE


def stage_line(stage: int, **values: str) -> str:
    return STAGE_LINES[stage].format(**values)


def script(segment: str, stage: int, tags: Sequence[str], values: dict[str, str]) -> list[str]:
    """The script's lines for one owner, in calling order."""
    group, tone = tone_for(tags)
    return [
        f"语气：{tone}" + (f"（{group}）" if group else ""),
        "开场：问好，报公司和姓名，确认对方是业主本人及房号。",
        f"要点：{OPENINGS.get(segment, OPENINGS['reminder'])}",
        f"说法：{stage_line(stage, **values)}",
        "对方有异议：记录具体问题和期间，告知会核对并回复，不争执。",
        CLOSING,
    ]
