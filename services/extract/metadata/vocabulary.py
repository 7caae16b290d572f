"""The fixed vocabularies: document kinds (from the title's ending) and topics.

`DOC_TYPES` is ordered longest-first so `实施意见` wins over `意见`: the statutory 公文
kinds (党政机关公文处理工作条例: 决议, 决定, 命令, 公报, 公告, 通告, 意见, 通知, 通报,
报告, 请示, 批复, 议案, 函, 纪要) and the usual kinds of 规范性文件 and plans (办法, 规定,
细则, 规则, 措施, 指引, 指南, 清单, 方案, 规划, 计划…). A trailing qualifier such as
`(试行)` or `(2023—2025年)` is not the kind: `管理办法(试行)` is a 管理办法. A 印发/转发
notice (`关于印发《X实施方案》的通知`) is a 通知: the kind of the document itself, not of
what it carries. `TOPICS` maps each topic to terms whose occurrences count as evidence.
"""

from __future__ import annotations

import re

DOC_TYPES: tuple[str, ...] = (
    "实施意见",
    "指导意见",
    "实施方案",
    "工作方案",
    "行动方案",
    "建设方案",
    "行动计划",
    "工作计划",
    "管理办法",
    "实施办法",
    "暂行办法",
    "实施细则",
    "工作要点",
    "工作总结",
    "工作报告",
    "经验做法",
    "若干措施",
    "通知",
    "通告",
    "通报",
    "公告",
    "意见",
    "方案",
    "办法",
    "细则",
    "规定",
    "规则",
    "措施",
    "指引",
    "指南",
    "清单",
    "规划",
    "计划",
    "决定",
    "决议",
    "条例",
    "报告",
    "批复",
    "请示",
    "函",
    "纪要",
    "总结",
    "要点",
    "经验",
    "命令",
    "议案",
    "公报",
)

TOPICS: dict[str, tuple[str, ...]] = {
    "职业教育": ("职业教育", "职业院校", "职教", "中职", "高职", "技工院校"),
    "产教融合": ("产教融合", "校企合作", "产业学院", "产教联合体", "现代学徒制", "订单式培养"),
    "乡村振兴": ("乡村振兴", "农业农村", "乡村产业", "脱贫攻坚", "农民"),
    "就业创业": ("就业", "创业", "高校毕业生", "稳岗"),
    "技能人才": ("技能人才", "技能培训", "职业技能", "工匠", "技能大赛", "技能等级"),
    "教师队伍": ("双师型", "教师队伍", "师资"),
    "终身学习": ("终身学习", "社区教育", "继续教育", "老年教育", "学分银行"),
    "对外开放": ("一带一路", "国际合作", "对外交流", "中外合作"),
    "经费保障": ("专项资金", "经费", "生均拨款", "财政投入", "补贴"),
    "医疗卫生": ("医疗", "卫生健康", "医院", "公共卫生"),
    "生态环境": ("生态环境", "污染防治", "绿色发展", "碳达峰", "碳中和"),
    "科技创新": ("科技创新", "研发", "科技成果", "创新平台"),
    "营商环境": ("营商环境", "放管服", "政务服务", "一网通办"),
    "社会保障": ("社会保障", "养老保险", "医疗保险", "社会救助", "最低生活保障"),
    "数字经济": ("数字经济", "数字化", "大数据", "人工智能", "信息化"),
    "安全生产": ("安全生产", "应急管理", "隐患排查"),
    "文化旅游": ("文化旅游", "旅游", "文旅", "非物质文化遗产"),
    "住房城建": ("住房", "城市更新", "老旧小区", "保障性住房"),
}


# `(试行)`, `(暂行)`, `(修订)`, `(征求意见稿)`, `(2023—2025年)`, `(甘政发〔2023〕1号)`:
# a short parenthesis closing a title qualifies it; the kind is the word before it.
_QUALIFIER = re.compile(r"\s*[(（][^()（）]{1,20}[)）]\s*$")


def doc_type_of(title: str) -> str | None:
    t = title.rstrip(" 。.")
    # As written, then without a closing qualifier, then inside 《…》 (`《…方案》`).
    bare = _QUALIFIER.sub("", t)
    inner = bare.rstrip("》〉")
    for candidate in dict.fromkeys((t, bare, inner, _QUALIFIER.sub("", inner))):
        for kind in DOC_TYPES:
            if candidate.endswith(kind):
                return kind
    return None


def topics_of(title: str, text: str, *, min_hits: int = 3) -> list[str]:
    scored = []
    for topic, terms in TOPICS.items():
        hits = sum(text.count(term) for term in terms)
        in_title = any(term in title for term in terms)
        if in_title or hits >= min_hits:
            scored.append((in_title, hits, topic))
    scored.sort(reverse=True)
    return [topic for _, _, topic in scored[:5]]
