"""Domain cues of complaint texts: a hand-written lexicon of what callers talk about.

Each *concept* (water supply, "none / stopped", "weak / small", rain, flooding, drains, a topic
that is not a lifeline — street lights, bills, meters, air-conditioning …) is a regular
expression over Mandarin, Chongqing dialect and English wording. :class:`CueFeatures` turns a
text into indicators of the concepts it mentions and of every pair of them (water ∧ none →
no water; water ∧ weak ∧ present → low pressure; rain ∧ flooding → waterlogging; bill ∧ power
→ not an incident). The lexicon is domain knowledge written for lifeline, not learnt from the
corpus, so it carries over to phrasings the training templates never used.
"""

from __future__ import annotations

import re
from itertools import combinations
from typing import Any, Final

CONCEPTS: Final[dict[str, str]] = {
    "water": (
        r"自来水|水龙头|龙头|水管|供水|停水|断水|来水|出水|水流|用水|水压|没水|无水|莫得水|没得水|"
        r"水量|接水|一滴水|洗澡|冲厕所|水也|水都|水停|水没|\btaps?\b|water supply|running water|\bwater\b(?! heater)|"
        r"\bmains?\b|shower|kettle|toilet"
    ),
    "none": (
        r"停了|停水|停电|停气|断水|断电|断了|没水|没电|没气|没有水|没有电|无水|无电|莫得|没得|不出水|"
        r"没有了|没了|"
        r"干了|一滴|中断|来不了|黑了|黑起|黑黢黢|黑漆漆|漆黑|黑灯|\bno (?:water|power|electricity|gas)\b|"
        r"\bwithout\b|\bdry\b|\bcut\b|\boff\b|stopped|\bgone\b|\blost\b|outage|nothing comes|\bdark\b|"
        r"gave out|blackout"
    ),
    "weak": (
        r"水压|压力|小得|好小|很小|太小|特别小|偏小|偏低|很低|太低|不足|不够|很细|细得|上不去|上不来|"
        r"无力|莫得力气|滴滴|很弱|微弱|一点点|火小|火很小|量小|很慢|出水慢|忽大忽小|一哈大一哈小|灭了|熄了|"
        r"\bweak\b|\blow\b|trickle|\bpoor\b|barely|\bslow\b|pathetic|hardly|tiny|pressure|"
        r"won't light|will not light|not light|dies|going out|"
        # no gas at all is reported with a weak supply (category low_pressure)
        r"停气|莫得气|没得气|没有气|没气了|没有燃气|没有天然气|燃气中断|时有时无|no gas|gas supply"
    ),
    "present": (
        r"有水|水是有|电是有|有电|电是好的|是好的|水电都正常|正常|不是停|不是没|不是莫得|没停电|没有停电|"
        r"不是漏|不是燃气|不是水管|不是爆|没有闻到|莫得啥子气味|isn't a leak|not a leak|no smell|"
        r"we have|there is water|do have|have power|is fine|are fine|not without|not a power cut|"
        r"not just|not a burst"
    ),
    "quality": (
        r"发黄|黄的|黄黄|黄焦焦|黄褐|浑|锈|黑色|黑渣|发黑|红色|发红|是红的|白色|白花花|牛奶|臭味|异味|"
        r"怪味|颗粒|渣渣|沉淀|杂质|泥沙|稀泥|水质|颜色|漂白粉|褐|黄得|黄色|变黄|变浑|\bbrown\b|cloudy|rust|yellow|\bblack\b|"
        r"milky|taste|dirty|murky|discolou?r|particles|musty|coloured|reddish|"
        r"smells? (?:bad|odd|funny|strange)|bad smell"
    ),
    "burst": (
        r"爆|破裂|破了|冒水|冒清水|冒自来水|喷|涌|漏水|漏得|漏了|在漏|跑水|裂了|塌|垮|拱起|飙|burst|gush|spurt|spray|leak|bubbl|"
        r"crack|sinkhole|pouring|collapsed"
    ),
    "power": (
        r"停电|断电|没电|供电|电压|来电|变压器|跳闸|总闸|电梯停|电梯关|莫得电|没得电|遭停电|用电|"
        r"黑灯|漆黑|黑黢黢|黑漆漆|黑起|困人|电也|电都|电停|电没|电(?![梯话费脑视器表动池缆影力])|"
        r"\bpower\b|electric|blackout|voltage|transformer|"
        r"breaker|fuse|\bdark\b|trapped"
    ),
    "light": r"灯|\blights?\b|bulb|\blamps?\b",
    "flicker": (
        r"闪|忽明忽暗|忽高忽低|一会亮一会暗|一哈亮一哈暗|一哈高一哈低|一会儿有一会儿没|一哈有一哈莫得|"
        r"不稳|波动|很暗|是暗的|重启|flicker|\bdim|surge|fluctuat|brownout|unstable|browning|"
        r"for a second|off and on|on and off"
    ),
    "gas": (
        r"燃气|天然气|煤气|漏气|停气|莫得气|没得气|没有气|灶|火苗|火焰|火小|火好小|火很小|火特别小|"
        r"火力|点火|打火|打不着|打不燃|点不着|瓦斯|"
        r"臭鸡蛋|报警器|\bgas\b|\bhob\b|flame|burner|stove|rotten egg|\brings?\b"
    ),
    "smell": (
        r"味|臭|嘶|刺鼻|冲鼻|气味|漏气|泄漏|泄露|报警|smell|odou?r|hiss|stink|stench|alarm|escape|"
        r"\bleak"
    ),
    "rain": r"雨|storm|\brain|downpour|cloudburst",
    "no_rain": r"没下雨|没有下雨|没落雨|没有落雨|不是下雨|hasn't rained|not rain|no rain|didn't rain|dry day",
    "flood": (
        r"淹|积水|内涝|水凼|一凼水|漫|泡了|泡起|没过|蹚水|进了水|地下室进水|车库进水|进了雨水|成河|"
        r"flood|ponding|under water|"
        r"standing water|submerged|underpass"
    ),
    "drain": (
        r"下水道|排水|雨水口|篦子|排水沟|污水|化粪池|井盖|检查井|窨井|污水井|井口|下水|sewer|drain|"
        r"gully|manhole|sewage|grate"
    ),
    "block": (
        r"堵|塞满|塞住|不通|排不|排水不畅|没地方流|流不走|退不下去|blocked|clog|choked|backing up|"
        r"can't drain|won't drain|not drain"
    ),
    "topic_other": (
        r"路灯|空调|电费|水费|燃气费|气费|账单|缴费|交费|电表|水表|燃气表|抄表|过户|开户|宽带|网络|断网|"
        r"网断|信号|电梯坏|电梯又坏|噪音|吵|垃圾没人|垃圾很久|垃圾堆|清运|停车|施工|装修|流浪狗|物业|"
        r"充电桩|热水器坏|赔偿|营业厅|"
        r"门禁|油烟|单车|广场舞|站牌|红绿灯|坑洼|天花板|渗到|电梯故障|丢了|丢失|缺失|street ?light|"
        r"street ?lamp|air con|air-con|\bac\b|\bbill|charged|account|\bmeter|internet|signal|"
        r"lift (?:is )?(?:out of order|broken)|noise|noisy|loud|rubbish (?:not|never)|parking|"
        r"pothole|charger|"
        r"compensat|plumber|\btv\b|music|party|ceiling|missing|stolen"
    ),
    "question": r"请问|咨询|想问|怎么办理|如何|需要什么|\bhow\b|\bwhat\b|query",
}
_RX: Final[dict[str, re.Pattern[str]]] = {k: re.compile(v) for k, v in CONCEPTS.items()}
NAMES: Final[list[str]] = list(CONCEPTS)
PAIRS: Final[list[tuple[str, str]]] = list(combinations(NAMES, 2))
FEATURES: Final[list[str]] = NAMES + [f"{a}&{b}" for a, b in PAIRS]
_INDEX: Final[dict[str, int]] = {f: i for i, f in enumerate(FEATURES)}


#: hotline boilerplate that looks like a cue: 来电人 (the caller), 回电 (call back)
_BOILERPLATE: Final = re.compile(
    r"来电人|市民来电|来电反映|来电称|来电表示|来电咨询|回电|call ?back"
)

#: concepts that say something is wrong: a clause reporting a second issue must mention one
SYMPTOMS: Final[set[str]] = {
    "none",
    "weak",
    "quality",
    "burst",
    "flicker",
    "smell",
    "flood",
    "block",
}
#: concepts that name each utility: a clause reporting a second issue must mention one
UTILITY_CUES: Final[dict[str, set[str]]] = {
    "water": {"water"},
    "power": {"power", "flicker"},
    "gas": {"gas"},
    "drainage": {"drain", "rain", "flood"},
}


def concepts(text: str) -> set[str]:
    """The concepts ``text`` (lower-cased, NFKC) mentions."""
    text = _BOILERPLATE.sub(" ", text)
    return {name for name, rx in _RX.items() if rx.search(text)}


class CueFeatures:
    """scikit-learn transformer: L2-normalised indicators of concepts and concept pairs."""

    def fit(self, texts: Any, y: Any = None) -> CueFeatures:
        """Nothing to learn: the lexicon is fixed."""
        return self

    def transform(self, texts: Any) -> Any:
        """Sparse matrix (texts × :data:`FEATURES`)."""
        import numpy as np
        from scipy.sparse import csr_matrix

        rows, cols = [], []
        for i, t in enumerate(texts):
            hit = concepts(str(t))
            found = [c for c in NAMES if c in hit]
            idx = [_INDEX[c] for c in found]
            idx += [_INDEX[f"{a}&{b}"] for a, b in combinations(found, 2)]
            rows += [i] * len(idx)
            cols += idx
        data = np.ones(len(rows))
        m = csr_matrix((data, (rows, cols)), shape=(len(texts), len(FEATURES)))
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return csr_matrix(m.multiply(1.0 / norms[:, None]))

    def fit_transform(self, texts: Any, y: Any = None) -> Any:
        """:meth:`fit` then :meth:`transform`."""
        return self.fit(texts).transform(texts)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """No parameters (scikit-learn protocol)."""
        return {}

    def set_params(self, **params: Any) -> CueFeatures:
        """No parameters (scikit-learn protocol)."""
        return self
