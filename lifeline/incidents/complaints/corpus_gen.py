"""Generate the shipped labelled complaint corpus (``lifeline/incidents/data/complaints_corpus.csv``).

The corpus is written once by ``python -m lifeline.incidents.complaints.corpus_gen`` and
committed; the classifier reads the CSV, never this module. Every template of
:mod:`~lifeline.incidents.complaints.templates`, :mod:`~.templates_more` (Mandarin, English),
:mod:`~.templates_cq` (Chongqing dialect, ``lang == "zh-cq"``) and :mod:`~.templates_final`
(``split == "final"``: the final test, see there) is instantiated several times with a random
address, time, duration, hotline/app boilerplate, punctuation and (sometimes) typos, so a
held-out split by ``template_id`` measures generalisation to unseen phrasings. A call reporting
two issues carries the second in ``utility2``/``category2``.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from lifeline.incidents.complaints.templates import (
    EN,
    EN_FRAMES,
    EN_PHRASES,
    ZH,
    ZH_FRAMES,
    ZH_PHRASES,
    Row,
)
from lifeline.incidents.complaints.templates_cq import CQ, CQ_FRAMES, CQ_PHRASES
from lifeline.incidents.complaints.templates_final import CQ_FINAL, EN_FINAL, ZH_FINAL
from lifeline.incidents.complaints.templates_more import (
    EN_MORE,
    EN_MORE_PHRASES,
    ZH_MORE,
    ZH_MORE_PHRASES,
)

CORPUS_PATH = Path(__file__).resolve().parent.parent / "data" / "complaints_corpus.csv"
COLUMNS = (
    "text",
    "lang",
    "utility",
    "category",
    "template_id",
    "channel",
    "utility2",
    "category2",
    "split",
)

_ZH_STREETS = [
    "和平路",
    "建设大街",
    "解放路",
    "人民路",
    "中山路",
    "幸福街",
    "长江路",
    "黄河路",
    "滨河路",
    "文化路",
    "光明街",
    "新华路",
    "朝阳路",
    "青年路",
    "东风路",
    "南湖路",
]
_ZH_ESTATES = [
    "阳光花园",
    "幸福小区",
    "金色家园",
    "锦绣华庭",
    "翠湖苑",
    "东方明珠小区",
    "丽景湾",
    "春晖小区",
    "和谐家园",
    "书香名邸",
]
_EN_STREETS = [
    "Harbour Road",
    "Elm Street",
    "Station Road",
    "Mill Lane",
    "Church Street",
    "Park Avenue",
    "River Walk",
    "King Street",
    "Bridge Road",
    "Market Square",
    "Canal Street",
    "Hill Road",
    "Orchard Way",
    "School Lane",
]
_ZH_TIMES = [
    "今天早上",
    "昨晚",
    "下午三点",
    "刚才",
    "早上六点多",
    "中午",
    "凌晨",
    "昨天下午",
    "今天上午九点",
    "半小时前",
    "晚上八点",
]
_EN_TIMES = [
    "this morning",
    "last night",
    "3pm",
    "an hour ago",
    "6 am",
    "lunchtime",
    "yesterday evening",
    "about 30 minutes ago",
    "midnight",
    "9:15",
]
_ZH_DURS = [
    "两个小时",
    "半天",
    "一整天",
    "三个多小时",
    "一上午",
    "四十分钟",
    "一晚上",
    "好几个小时",
]
_EN_DURS = [
    "two hours",
    "half a day",
    "all day",
    "3 hours",
    "the whole morning",
    "40 minutes",
    "all night",
    "several hours",
]
_ZH_PRE = [
    "",
    "",
    "",
    "您好，",
    "喂，",
    "市民来电反映：",
    "来电人反映：",
    "【APP上报】",
    "市民反映，",
    "12345转办：",
    "你好，我想反映一下，",
    "投诉：",
]
_ZH_SUF = [
    "",
    "",
    "",
    "。",
    "，请尽快处理。",
    "，请相关部门核实处理。",
    "！！",
    "，谢谢。",
    "，要求回复。",
    "，非常着急",
    "。来电人要求尽快回电。",
]
_EN_PRE = [
    "",
    "",
    "",
    "Hi, ",
    "Hello, ",
    "Caller reports: ",
    "[App] ",
    "Complaint: ",
    "Citizen hotline: ",
    "Urgent - ",
]
_EN_SUF = [
    "",
    "",
    ".",
    ". Please fix.",
    ". Please send someone.",
    "!!",
    ". thanks",
    ". Caller requests a call back.",
    " - very urgent",
    ".",
]
#: common homophone / input-method slips in Chinese tickets
_ZH_TYPOS = {
    "停水": "停谁",
    "停电": "停点",
    "燃气": "燃汽",
    "水压": "水呀",
    "没有": "没又",
    "漏气": "露气",
    "电压": "电呀",
    "爆了": "暴了",
    "浑浊": "混浊",
    "已经": "以经",
}


_CQ_PLACES = [
    "观音桥",
    "解放碑",
    "南坪",
    "沙坪坝",
    "杨家坪",
    "大坪",
    "石桥铺",
    "两路口",
    "菜园坝",
    "龙头寺",
    "冉家坝",
    "大渡口",
    "鹅岭",
    "李子坝",
    "江北嘴",
    "弹子石",
]
_CQ_ESTATES = ["龙湖花园", "金科小区", "嘉陵新村", "电力宿舍", "山城小区", "江景苑", "华宇城"]
_CQ_TIMES = [
    "今天早上",
    "昨天黑了",
    "下午三点钟",
    "刚刚",
    "早上六点多",
    "中午",
    "半夜",
    "昨天下午",
    "今天上午九点钟",
    "半个钟头前",
    "晚上八点钟",
]
_CQ_DURS = [
    "两个钟头",
    "大半天",
    "一整天",
    "三个多钟头",
    "一上午",
    "四十分钟",
    "一晚上",
    "好几个钟头",
]
_CQ_PRE = ["", "", "", "喂，", "喂喂，", "你好嘛，", "师傅，", "我跟你说哈，", "我要反映个事情，"]
_CQ_SUF = [
    "",
    "",
    "",
    "。",
    "，搞快点来看一哈嘛",
    "，你们管不管嘛",
    "，恼火得很",
    "，硬是遭不住了",
    "，麻烦你们快点哈",
    "！",
]


def _cq_addr(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.45:
        return f"{rng.choice(_CQ_PLACES)}{rng.choice(_CQ_ESTATES)}{rng.randint(1, 30)}栋"
    if kind < 0.8:
        return f"{rng.choice(_CQ_PLACES)}这边"
    return f"{rng.choice(_CQ_PLACES)}{rng.choice(['正街', '转盘', '轻轨站', '菜市场'])}那点"


def _zh_addr(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.4:
        return f"{rng.choice(_ZH_STREETS)}{rng.randint(1, 300)}号"
    if kind < 0.8:
        return f"{rng.choice(_ZH_ESTATES)}{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元"
    return f"{rng.choice(_ZH_STREETS)}与{rng.choice(_ZH_STREETS)}交叉口"


def _en_addr(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.6:
        return f"{rng.randint(1, 250)} {rng.choice(_EN_STREETS)}"
    if kind < 0.85:
        return f"Flat {rng.randint(1, 40)}, {rng.randint(1, 120)} {rng.choice(_EN_STREETS)}"
    return f"the corner of {rng.choice(_EN_STREETS)} and {rng.choice(_EN_STREETS)}"


def _typo_en(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    i = rng.randrange(len(words))
    w = words[i]
    if len(w) > 3:
        j = rng.randrange(1, len(w) - 1)
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.5 else w[:j] + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def _typo_zh(text: str, rng: random.Random) -> str:
    keys = [k for k in _ZH_TYPOS if k in text]
    if not keys:
        return text
    k = rng.choice(keys)
    return text.replace(k, _ZH_TYPOS[k], 1)


def _jobs() -> list[tuple[str, str, Row, list[str], int, str]]:
    """(lang, template id, labels, texts to fill, rows wanted, split) for every template/phrase."""
    jobs: list[tuple[str, str, Row, list[str], int, str]] = []
    tables: list[tuple[str, str, list[Row], str]] = [
        ("zh", "zh", ZH, "dev"),
        ("en", "en", EN, "dev"),
        ("zh", "zh-more", ZH_MORE, "dev"),
        ("en", "en-more", EN_MORE, "dev"),
        ("zh-cq", "zh-cq", CQ, "dev"),
        ("zh", "final-zh", ZH_FINAL, "final"),
        ("zh-cq", "final-zh-cq", CQ_FINAL, "final"),
        ("en", "final-en", EN_FINAL, "final"),
    ]
    for lang, prefix, table, split in tables:
        for t_idx, row in enumerate(table):
            tid = f"{prefix}-{t_idx:03d}"
            jobs.append((lang, tid, (*row[:2], *row[3:]), [row[2]], 0, split))
    phrase_sets = [
        ("zh", ZH_PHRASES, ZH_FRAMES),
        ("en", EN_PHRASES, EN_FRAMES),
        ("zh", ZH_MORE_PHRASES, ZH_FRAMES),
        ("en", EN_MORE_PHRASES, EN_FRAMES),
        ("zh-cq", CQ_PHRASES, CQ_FRAMES),
    ]
    seen_ids: set[str] = set()
    for lang, phrases, frames in phrase_sets:
        for (utility, category), plist in phrases.items():
            for p_idx, phrase in enumerate(plist):
                tid = f"{lang}-p-{category}-{utility}-{p_idx:02d}"
                while tid in seen_ids:  # the "more" phrases continue the numbering
                    p_idx += 100
                    tid = f"{lang}-p-{category}-{utility}-{p_idx:02d}"
                seen_ids.add(tid)
                tmpls = [f.replace("{p}", phrase) for f in frames]
                jobs.append((lang, tid, (utility, category), tmpls, -1, "dev"))
    return jobs


def generate(per_template: int = 5, per_phrase: int = 3, seed: int = 12345) -> list[dict[str, str]]:
    """Return the corpus rows (``COLUMNS``): ``per_template`` variants of every template and
    ``per_phrase`` variants (random frames) of every symptom phrase."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    for lang, tid, labels, tmpls, kind, split in _jobs():
        n = per_template if kind == 0 else per_phrase
        utility, category = labels[0], labels[1]
        utility2, category2 = (labels[2], labels[3]) if len(labels) > 2 else ("", "")
        seen: set[str] = set()
        for _ in range(n * 3):
            if len(seen) >= n:
                break
            tmpl = rng.choice(tmpls)
            channel = rng.choice(["hotline", "hotline", "app", "wechat"])
            if lang == "zh":
                body = tmpl.format(
                    addr=_zh_addr(rng),
                    time=rng.choice(_ZH_TIMES),
                    dur=rng.choice(_ZH_DURS),
                    floor=rng.randint(6, 30),
                )
                text = rng.choice(_ZH_PRE) + body + rng.choice(_ZH_SUF)
                if rng.random() < 0.2:
                    text = _typo_zh(text, rng)
                if rng.random() < 0.15:
                    text = text.replace("，", " ").replace("。", "")
            elif lang == "zh-cq":
                body = tmpl.format(
                    addr=_cq_addr(rng),
                    time=rng.choice(_CQ_TIMES),
                    dur=rng.choice(_CQ_DURS),
                    floor=rng.randint(6, 30),
                )
                text = rng.choice(_CQ_PRE) + body + rng.choice(_CQ_SUF)
                if rng.random() < 0.2:
                    text = _typo_zh(text, rng)
                if rng.random() < 0.2:  # speech-to-text drops punctuation
                    text = text.replace("，", " ").replace("。", "")
            else:
                body = tmpl.format(
                    addr=_en_addr(rng),
                    time_en=rng.choice(_EN_TIMES),
                    dur_en=rng.choice(_EN_DURS),
                    floor=rng.randint(6, 30),
                )
                text = rng.choice(_EN_PRE) + body + rng.choice(_EN_SUF)
                if rng.random() < 0.25:
                    text = _typo_en(text, rng)
                if rng.random() < 0.15:
                    text = text.lower()
            if text in seen:
                continue
            seen.add(text)
            rows.append(
                {
                    "text": text,
                    "lang": lang,
                    "utility": utility,
                    "category": category,
                    "template_id": tid,
                    "channel": channel,
                    "utility2": utility2,
                    "category2": category2,
                    "split": split,
                }
            )
    return rows


def write_corpus(path: Path = CORPUS_PATH, per_template: int = 5, seed: int = 12345) -> int:
    """Write the corpus CSV to ``path``; returns the number of rows."""
    rows = generate(per_template=per_template, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COLUMNS))
        w.writeheader()
        w.writerows(rows)
    return len(rows)


if __name__ == "__main__":  # pragma: no cover
    print(write_corpus())
