"""The words of the shipped letters, as blocks the template builder lays out.

Each letter: title, number, addressee, what is owed (a table, the total in
figures and capitals), the deadline, how to pay, the legal basis in plain
words, whom to call if the figures are wrong, the seal place and date, and a
送达回执 page. Nothing here may threaten what the law forbids (``templates
check`` enforces it on these and on every clerk's edit).
"""

from __future__ import annotations

Block = tuple[str, object]

ART_944 = ("《中华人民共和国民法典》第九百四十四条规定：业主应当按照约定向物业服务人支付物业费；业主违反约定逾期"
           "不支付物业费的，物业服务人可以催告其在合理期限内支付；合理期限届满仍不支付的，物业服务人可以提起诉讼"
           "或者申请仲裁。")
ART_41 = ("《物业管理条例》第四十一条规定：业主应当根据物业服务合同的约定交纳物业服务费用。业主与物业使用人约定由"
          "物业使用人交纳物业服务费用的，从其约定，业主负连带交纳责任。")
ART_195 = ("《中华人民共和国民法典》第一百九十五条规定：权利人向义务人提出履行请求的，诉讼时效中断，从中断时起，"
           "诉讼时效期间重新计算。")

LINES_TABLE: Block = ("table", [
    (34, 30, 30, 34, 24),
    ("收费项目", "所属期间", "应缴日期", "欠费金额（元）", "逾期天数"),
    ("{%tr for line in lines %}", "", "", "", ""),
    ("{{ line.item }}", "{{ line.period }}", "{{ line.due_date }}", "{{ line.owed }}", "{{ line.days_overdue }}"),
    ("{%tr endfor %}", "", "", "", ""),
    ("合计", "", "", "{{ total }}", ""),
])
LIMITATION_TABLE: Block = ("table", [
    (30, 26, 28, 32, 36),
    ("收费项目", "所属期间", "应缴日期", "欠费金额（元）", "诉讼时效届满日"),
    ("{%tr for line in lines %}", "", "", "", ""),
    ("{{ line.item }}", "{{ line.period }}", "{{ line.due_date }}", "{{ line.owed }}", "{{ line.limitation_ends }}"),
    ("{%tr endfor %}", "", "", "", ""),
    ("合计", "", "", "{{ total }}", ""),
])
TOTAL: Block = ("text", "以上欠费合计 {{ total }} 元（大写：{{ total_capital }}）。")
NUMBER: Block = ("right", "编号：{{ notice_no }}")
ADDRESSEE: Block = ("plain", "{{ owner.name }}（{{ estate }} {{ owner.unit }} 业主）：")


def channels(intro: str) -> list[Block]:
    return [
        ("text", intro),
        ("plain", "{%p for channel in payment_channels %}"),
        ("text", "{{ loop.index }}. {{ channel }}"),
        ("plain", "{%p endfor %}"),
        ("plain", "{%p if company.account %}"),
        ("text", "银行转账：开户行 {{ company.bank }}，账号 {{ company.account }}，户名 {{ company.name }}"
                 "（请在附言中注明房号 {{ owner.unit }}）。"),
        ("plain", "{%p endif %}"),
    ]


OBJECTION: Block = ("text", "如您已经缴纳，或对上述欠费金额有异议，请于缴费期限届满前携相关凭证到{{ contact.name }}，"
                            "或致电 {{ contact.phone }}（{{ contact.hours }}）核对，我们将在核实后给您答复。")


def signature(closing: str, signer: str = "{{ company.name }}") -> list[Block]:
    return [("text", closing), ("gap", ""), ("right", signer), ("right", "（盖章）"), ("right", "{{ date }}")]


def receipt(document: str) -> list[Block]:
    return [
        ("break", ""),
        ("title", "送 达 回 执"),
        ("table", [
            (46, 114),
            ("通知编号", "{{ notice_no }}"),
            ("文书名称", document),
            ("受送达人", "{{ owner.name }}"),
            ("房屋", "{{ estate }} {{ owner.unit }}"),
            ("送达地址", "{{ owner.address }}"),
            ("送达方式", "□ 当面送达　□ 邮寄（EMS 单号：____________）　□ 留置送达　□ 其他：________"),
            ("送达日期", "________年____月____日"),
            ("签收人\n（签名、盖章或捺印）", "\n\n"),
            ("签收人与业主关系", "□ 本人　□ 同住成年家属　□ 授权代理人　□ 其他：________"),
            ("送达人（签名）", "\n"),
            ("见证人（留置送达时）", "\n"),
            ("备注", "\n"),
        ]),
        ("gap", ""),
        ("text", "说明：请签收人在本回执上签名并注明日期。业主本人不在时，可由同住的成年家属或业主授权的代理人"
                 "签收并注明与业主的关系。本回执由{{ company.name }}留存。"),
    ]


def _letter(title: str, opening: list[Block], middle: list[Block], closing: str, *,
            table: Block = LINES_TABLE, pay_intro: str = "缴费方式：") -> list[Block]:
    return [("title", title), NUMBER, ADDRESSEE, *opening, table, TOTAL, *middle, *channels(pay_intro),
            ("text", ART_944), OBJECTION, *signature(closing), *receipt(title)]


STAGE1 = _letter("缴费提醒", [
    ("text", "您好！感谢您一直以来对我们物业服务工作的支持。经核对，截至{{ date }}，您名下房屋尚有以下物业服务费用"
             "未缴纳："),
], [
    ("text", "可能是您工作繁忙未及缴纳。请您在方便时尽快缴纳，建议于{{ deadline }}前办理。"),
], "已缴纳的请忽略本提醒。顺祝生活愉快！")

STAGE2 = _letter("催缴通知书", [
    ("text", "根据《物业服务合同》的约定，业主应按期缴纳物业服务费用。经核对，截至{{ date }}，您名下房屋尚欠下列费用："),
], [
    ("bold", "请您于{{ deadline }}前（含当日）缴清上述费用。本通知即为对上述费用的催告。"),
], "特此通知。")

STAGE3 = _letter("催缴函", [
    ("text", "我司为{{ estate }}提供物业服务，已依约履行服务义务。{% if history %}此前我司已于{{ history[-1].issued_on }}"
             "向您发出{{ history[-1].stage_name }}，至今未见缴纳。{% endif %}截至{{ date }}，您名下房屋尚欠下列费用："),
], [
    ("bold", "现再次函告：请您于{{ deadline }}前（含当日）缴清上述全部欠费。"),
    ("text", "逾期仍未缴纳的，我司将依法向人民法院申请支付令或者提起诉讼，通过司法途径主张上述费用。"),
], "特此函告。")

STAGE4 = [
    ("title", "律 师 函"), NUMBER, ADDRESSEE,
    ("text", "{% if lawyer.firm %}{{ lawyer.firm }}{% else %}________________律师事务所{% endif %}接受{{ company.name }}（以下简称“委托人”）的委托，就您拖欠{{ estate }} {{ owner.unit }}"
             "物业服务费用一事，郑重致函如下："),
    ("text", "一、委托人为{{ estate }}的物业服务人，已依照物业服务合同提供服务。{% if history %}委托人曾于"
             "{{ history[-1].issued_on }}向您发出{{ history[-1].stage_name }}，您至今未缴纳。{% endif %}"),
    ("text", "二、截至{{ date }}，您尚欠物业服务费用如下："),
    LINES_TABLE, TOTAL,
    ("text", "三、" + ART_944),
    ("bold", "四、请您于{{ deadline }}前（含当日）向委托人缴清上述全部欠费。逾期仍未缴纳的，本所将受委托人委托，"
             "依法向人民法院申请支付令或者提起诉讼，诉讼费用依法由败诉方承担。"),
    *channels("缴费方式："),
    ("text", "如您对上述欠费有异议，请在上述期限内与委托人（{{ contact.name }}，电话 {{ contact.phone }}）或本所联系核对。"),
    ("text", "特此函告。"), ("gap", ""),
    ("right", "{% if lawyer.firm %}{{ lawyer.firm }}{% else %}________________律师事务所{% endif %}（盖章）"),
    ("right", "律师：{% if lawyer.name %}{{ lawyer.name }}{% else %}____________{% endif %}（签名）"),
    ("right", "电话：{% if lawyer.phone %}{{ lawyer.phone }}{% else %}____________{% endif %}"), ("right", "{{ date }}"),
    *receipt("律师函"),
]

STAGE5 = [
    ("title", "诉讼材料"), NUMBER,
    ("plain", "被告：{{ owner.name }}　房屋：{{ estate }} {{ owner.unit }}　通讯地址：{{ owner.address }}"),
    ("plain", "原告：{{ company.name }}　地址：{{ company.address }}"),
    ("bold", "一、欠费明细表（按期间）"),
    LINES_TABLE, TOTAL,
    ("bold", "二、催缴通知及送达记录"),
    ("table", [
        (30, 22, 26, 26, 22, 34),
        ("通知编号", "文书", "发出日期", "缴费期限", "金额（元）", "送达情况"),
        ("{%tr for item in history %}", "", "", "", "", ""),
        ("{{ item.notice_no }}", "{{ item.stage_name }}", "{{ item.issued_on }}", "{{ item.deadline }}",
         "{{ item.amount }}", "{{ item.delivery }}"),
        ("{%tr endfor %}", "", "", "", "", ""),
    ]),
    ("bold", "三、证据清单"),
    ("table", [
        (14, 60, 70, 16),
        ("序号", "证据名称", "证明内容", "页数"),
        ("1", "物业服务合同（前期物业服务合同）", "原被告之间的物业服务关系及收费标准", ""),
        ("2", "房屋权属信息或业主登记信息", "被告为{{ owner.unit }}的业主", ""),
        ("3", "欠费明细表（本材料第一部分）", "被告欠费的期间、项目与金额", ""),
        ("4", "催缴通知书、催缴函及送达回执、EMS 邮寄凭证", "原告已催告，诉讼时效中断", ""),
        ("5", "通话记录、还款承诺书（如有）", "被告对欠费的确认或承诺", ""),
    ]),
    ("gap", ""),
    ("right", "编制：{{ company.name }}"), ("right", "{{ date }}"),
    *receipt("诉讼材料"),
]

LIMITATION = _letter("催告函", [
    ("text", "截至{{ date }}，您名下房屋尚欠下列物业服务费用，其中部分费用的诉讼时效即将届满："),
], [
    ("bold", "我司特此向您催告：请您于{{ deadline }}前（含当日）缴清上述欠费。"),
    ("text", ART_195 + "本函即为我司向您提出的履行请求，请签收本函所附送达回执。"),
], "特此催告。", table=LIMITATION_TABLE)

DISPUTE = [
    ("title", "关于物业服务费用的沟通函"), NUMBER,
    ("plain", "尊敬的{{ owner.name }}（{{ estate }} {{ owner.unit }} 业主）："),
    ("text", "您好！{% if dispute.since %}我们已于{{ dispute.since }}收到您反映的“{{ dispute.reason }}”问题并已登记，对给您"
             "带来的不便深表歉意，该问题由专人跟进处理，处理进展我们会及时告知您。{% else %}对您反映的问题，我们十分重视，"
             "会由专人了解并跟进，处理进展我们会及时告知您。{% endif %}"),
    ("text", "同时向您说明，截至{{ date }}，您名下房屋的物业服务费用账目如下："),
    LINES_TABLE, TOTAL,
    ("text", "服务问题的处理与费用的缴纳，我们都会认真对待。诚邀您与我们面谈，当面沟通问题的处理情况，并一起核对"
             "账目。请致电 {{ contact.phone }}（{{ contact.hours }}）约定时间，或直接到{{ contact.name }}。"),
    ("text", "也想和您说明：按照《中华人民共和国民法典》第九百四十四条的规定，业主应当按照约定向物业服务人支付物业费，"
             "物业服务人可以请业主在合理期限内支付。恳请您在{{ deadline }}前（含当日）缴纳上述费用；如有困难或疑问，"
             "欢迎随时与我们商量。"),
    *channels("您方便时，可通过以下方式缴纳："),
    OBJECTION,
    *signature("感谢您的理解与支持！"),
    *receipt("关于物业服务费用的沟通函"),
]

HARDSHIP = _letter("分期缴费方案函", [
    ("text", "您好！我们了解到您近期可能遇到了一些困难。截至{{ date }}，您名下房屋尚欠下列物业服务费用："),
], [
    ("text", "为减轻您的负担，我们可以为您提供以下分期缴费方案，期间不收取滞纳金："),
    ("table", [
        (30, 60, 50),
        ("期数", "缴费日期（当日前）", "金额（元）"),
        ("{%tr for part in instalments %}", "", ""),
        ("第 {{ part.number }} 期", "{{ part.due_date }}", "{{ part.amount }}"),
        ("{%tr endfor %}", "", ""),
    ]),
    ("text", "如您同意，请于{{ deadline }}前到{{ contact.name }}签署《还款承诺书》；如需调整方案，也欢迎与我们商量。"),
], "祝您早日渡过难关！")

DEVELOPER = [
    ("title", "物业服务费欠费对账单"), NUMBER,
    ("plain", "{{ owner.name }}："),
    ("text", "贵司名下位于{{ estate }}的房屋 {{ owner.unit }}，截至{{ date }}，物业服务费用欠费情况如下："),
    ("table", [
        (60, 60),
        ("房号", "欠费金额（元）"),
        ("{%tr for row in units %}", ""),
        ("{{ row.unit }}", "{{ row.owed }}"),
        ("{%tr endfor %}", ""),
        ("合计", "{{ units_total }}"),
    ]),
    ("text", "{{ owner.unit }} 的欠费明细如下："),
    LINES_TABLE, TOTAL,
    ("bold", "请贵司核对后于{{ deadline }}前（含当日）缴清上述费用。"),
    ("text", "{% if other_units %}贵司名下其他欠费房屋（{{ other_units|join('、') }}）每户另有对账单，分别编号、分别计算，"
             "不计入本函合计。{% endif %}"),
    *channels("缴费方式："),
    ("text", ART_944), OBJECTION,
    *signature("特此函告。"),
    *receipt("物业服务费欠费对账单"),
]

ABSENTEE = _letter("{{ stage_name }}", [
    ("plain", "（邮寄地址：{{ owner.address }}）"),
    ("text", "{% if contact_attempts %}我们此前已电话联系您 {{ contact_attempts }} 次。{% endif %}现按您登记的通讯地址以"
             " EMS 寄送本函。截至{{ date }}，您名下房屋尚欠下列费用："),
], [
    ("bold", "请您于{{ deadline }}前（含当日）缴清上述费用。{% if company.account %}您不在本地时，可通过下列银行转账方式"
             "缴纳。{% endif %}"),
], "特此函告。")

TENANT = _letter("催缴通知书", [
    ("text", "您名下的房屋目前由他人租住使用。经核对，截至{{ date }}，该房屋尚欠下列物业服务费用："),
], [
    ("text", ART_41 + "如您与租户约定由租户缴纳，请您督促租户缴纳；未缴纳的，由您承担缴纳责任。"),
    ("bold", "请您于{{ deadline }}前（含当日）缴清上述费用。"),
], "特此通知。")

LETTERS: dict[str, list[Block]] = {
    "stage1_reminder": STAGE1, "stage2_notice": STAGE2, "stage3_demand": STAGE3, "stage4_lawyer": STAGE4,
    "stage5_litigation": STAGE5, "limitation_demand": LIMITATION, "dispute": DISPUTE, "hardship": HARDSHIP,
    "developer": DEVELOPER, "absentee": ABSENTEE, "tenant": TENANT,
}
