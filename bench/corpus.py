"""Generate realistic policy documents for benchmarks (our own text, no seed copies).

Documents look like the real mix: a title and header block (issuer, 发文字号, date),
numbered sections of policy prose, sometimes a pipe table, sometimes WeChat boilerplate,
some in traditional script, and a share of near-duplicates (a sentence changed, header
swapped) so the dedupe stage does real work. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

PLACES = [
    ("甘肃省", "兰州市", "兰政发"),
    ("黑龙江省", "齐齐哈尔市", "齐政发"),
    ("重庆市", "江津区", "江津府发"),
    ("内蒙古自治区", "兴安盟", "兴署发"),
    ("广东省", "佛山市", "佛府"),
    ("四川省", "绵阳市", "绵府发"),
    ("江苏省", "苏州市", "苏府"),
    ("浙江省", "宁波市", "甬政发"),
    ("山东省", "潍坊市", "潍政发"),
    ("湖南省", "株洲市", "株政发"),
    ("河南省", "洛阳市", "洛政"),
    ("福建省", "泉州市", "泉政文"),
]
TOPICS = [
    "产教融合",
    "校企合作",
    "乡村振兴",
    "双师型教师",
    "1+X证书",
    "职普融通",
    "国际合作",
    "经费保障",
    "终身学习",
    "技能竞赛",
    "现代学徒制",
    "实训基地",
    "市域产教联合体",
]
KINDS = [
    ("实施方案", "关于印发《{city}{topic}实施方案》的通知"),
    ("意见", "关于深化{topic}的实施意见"),
    ("办法", "{city}{topic}专项资金管理办法"),
    ("规划", "{city}职业教育发展“十四五”规划"),
    ("通知", "关于做好{year}年{topic}工作的通知"),
    ("报告", "{city}{year}年职业教育质量年度报告"),
]
SENTENCES = [
    "坚持以习近平新时代中国特色社会主义思想为指导,全面贯彻党的教育方针,落实立德树人根本任务。",
    "推动职业院校与行业龙头企业共建产业学院,推行订单式培养和现代学徒制。",
    "到{year}年,全市建成{n}个高水平专业群,职业院校毕业生本地就业率达到{p}%以上。",
    "市财政每年安排专项资金{n}000万元,用于支持{topic}项目建设。",
    "鼓励企业以资金、技术、设备、管理等要素参与办学,依法享受相关优惠政策。",
    "加强“双师型”教师队伍建设,“双师型”教师占专业课教师比例达到{p}%以上。",
    "深化{topic},完善学校、行业、企业协同育人机制,提升人才培养质量。",
    "健全职业教育经费投入机制,落实生均拨款制度,逐步提高保障水平。",
    "支持职业院校开展面向社会的职业技能培训,年培训{n}万人次。",
    "建立部门协调机制,定期研究解决职业教育改革发展中的重大问题。",
    "探索中职与高职贯通培养,拓宽技术技能人才成长通道。",
    "办好职业教育活动周,营造人人皆可成才、人人尽展其才的良好环境。",
    "加强督导评估,将职业教育工作纳入对各县区政府的考核内容。",
    "推进实训基地建设,建成{n}个共享型公共实训基地,服务区域产业发展。",
    "完善职业院校治理结构,扩大办学自主权,激发办学活力。",
    "落实《国务院关于印发国家职业教育改革实施方案的通知》(国发〔2019〕4号)要求。",
]
# Clause parts combined at random: the sentence bank alone would make unrelated
# documents look like near-duplicates of each other, which real archives do not.
SUBJECTS = [
    "各县区",
    "市教育局",
    "市人力资源社会保障局",
    "各职业院校",
    "行业主管部门",
    "市财政局",
    "高新区管委会",
    "市发展改革委",
    "相关企业",
    "市总工会",
    "各乡镇",
    "市农业农村局",
]
VERBS = [
    "要加快",
    "应当统筹推进",
    "负责组织实施",
    "牵头研究制定",
    "积极探索",
    "持续完善",
    "分年度落实",
    "重点支持",
    "着力提升",
    "逐步建立",
    "协同推动",
    "认真做好",
]
OBJECTS = [
    "专业设置动态调整机制",
    "校企联合招生制度",
    "技能人才评价体系",
    "教师企业实践制度",
    "实训设备更新计划",
    "毕业生就业跟踪服务",
    "职业培训补贴政策",
    "产业学院建设标准",
    "中高职衔接课程体系",
    "社区教育服务网络",
    "企业新型学徒制",
    "技能大师工作室建设",
    "农村实用人才培训",
    "数字化教学资源库",
    "职业技能等级认定",
    "招生考试制度改革",
]
PURPOSES = [
    "确保各项任务落到实处",
    "为地方经济发展提供人才支撑",
    "切实提高资金使用效益",
    "推动形成长效机制",
    "服务区域主导产业",
    "增强职业教育吸引力",
    "满足群众多样化学习需求",
]
HEADINGS = ["一、指导思想", "二、主要目标", "三、重点任务", "四、保障措施", "五、组织实施"]
SUBHEADINGS = ["(一)加强统筹协调", "(二)深化校企合作", "(三)完善政策体系", "(四)强化经费保障"]
BOILERPLATE = (
    "\n来源丨{city}发布\n版权归原作者所有,如有侵权请立即与我们联系"
    "\n免责声明:本平台转载内容仅供参考。"
)


@dataclass(frozen=True, slots=True)
class GeneratedDoc:
    key: str
    text: str
    title: str
    province: str
    city: str
    doc_number: str
    duplicate_of: str | None = None


def _fill(rng: random.Random, template: str, **ctx: str) -> str:
    return template.format(
        year=ctx.get("year", str(rng.randint(2021, 2030))),
        n=rng.randint(2, 50),
        p=rng.choice([50, 60, 70, 80, 90]),
        topic=ctx.get("topic") or rng.choice(TOPICS),
        city=ctx.get("city", ""),
    )


def _sentence(rng: random.Random, *, topic: str, city: str) -> str:
    if rng.random() < 0.3:
        return _fill(rng, rng.choice(SENTENCES), topic=topic, city=city)
    return (
        f"{rng.choice(SUBJECTS)}{rng.choice(VERBS)}{rng.choice(OBJECTS)},"
        f"{rng.choice(['在', '围绕', '结合'])}{rng.choice(TOPICS)}方面"
        f"{rng.choice(['年内', '两年内', '分阶段', '逐年'])}完成{rng.randint(2, 300)}项具体任务,"
        f"{rng.choice(PURPOSES)}。"
    )


def make_document(rng: random.Random, key: str, *, target_chars: int) -> GeneratedDoc:
    province, city, prefix = rng.choice(PLACES)
    topic = rng.choice(TOPICS)
    year = str(rng.randint(2019, 2025))
    _kind, title_tpl = rng.choice(KINDS)
    title = title_tpl.format(city=city, topic=topic, year=year)
    number = f"{prefix}〔{year}〕{rng.randint(1, 99)}号"
    lines = [title, number, "各县区人民政府,市政府各部门:"]
    body: list[str] = []
    size = sum(len(x) for x in lines)
    section = 0
    while size < target_chars:
        if section < len(HEADINGS) and (not body or rng.random() < 0.25):
            body.append(HEADINGS[section])
            section += 1
        elif rng.random() < 0.15:
            body.append(rng.choice(SUBHEADINGS))
        elif rng.random() < 0.05:
            body.append("序号 | 任务 | 责任单位")
            body.extend(
                f"{i} | {_fill(rng, rng.choice(SENTENCES), topic=topic)} | 市教育局"
                for i in range(1, 4)
            )
        paragraph = "".join(
            _sentence(rng, topic=topic, city=city) for _ in range(rng.randint(2, 5))
        )
        body.append(paragraph)
        size += len(paragraph) + 10
    lines += body
    lines.append(f"{city}人民政府 {year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日")
    if rng.random() < 0.2:
        lines.append(BOILERPLATE.format(city=city))
    return GeneratedDoc(
        key=key, text="\n".join(lines), title=title, province=province, city=city, doc_number=number
    )


def near_copy(rng: random.Random, doc: GeneratedDoc, key: str) -> GeneratedDoc:
    """A republication: one sentence edited and a different site footer."""
    lines = doc.text.split("\n")
    i = rng.randrange(3, len(lines) - 1)
    lines[i] = lines[i].replace("推动", "积极推动", 1).replace("加强", "切实加强", 1)
    text = "\n".join(lines) + f"\n编辑/{rng.choice(['张三', '李四', '王五'])}"
    return GeneratedDoc(
        key, text, doc.title, doc.province, doc.city, doc.doc_number, duplicate_of=doc.key
    )


def to_traditional(text: str) -> str:
    import opencc

    return str(opencc.OpenCC("s2t").convert(text))


def generate(count: int, *, seed: int = 7, min_kb: int = 1, max_kb: int = 40) -> list[GeneratedDoc]:
    """`count` documents: ~10 % near-copies, ~10 % in traditional script; lengths skewed
    toward a few KB like real notices, with a tail of long plans."""
    rng = random.Random(seed)
    docs: list[GeneratedDoc] = []
    for i in range(count):
        key = f"doc-{seed}-{i}"
        if docs and rng.random() < 0.1:
            docs.append(near_copy(rng, rng.choice(docs), key))
            continue
        kb = min(max_kb, max(min_kb, rng.lognormvariate(1.5, 0.8)))
        doc = make_document(rng, key, target_chars=int(kb * 1024 / 3))  # ~3 bytes per Han char
        if rng.random() < 0.1:
            doc = GeneratedDoc(
                key, to_traditional(doc.text), doc.title, doc.province, doc.city, doc.doc_number
            )
        docs.append(doc)
    return docs
