"""Final test templates of the complaint corpus: written once, before the classifier was tuned,
and used only for the final held-out figure (``split == "final"`` in the corpus).

While features and templates were tuned, only the development templates
(:mod:`templates`, :mod:`templates_more`, :mod:`templates_cq`) were scored, by cross-validation
over whole templates. These templates were then scored once with a model trained on every
development row (``bench/complaints.py``, ``final`` in ``bench/results/complaints.json``). The
shipped classifier trains on all rows.

Row format: ``(utility, category, template[, utility2, category2])`` — a second label names the
second issue of a call reporting two.
"""

from __future__ import annotations

from typing import Final

from lifeline.incidents.complaints.templates import Row

ZH_FINAL: Final[list[Row]] = [
    ("water", "no_water", "来电人表示{addr}自{time}起家中龙头无水流出，询问何时恢复供水"),
    ("water", "no_water", "{addr}这边水停了{dur}了，连口喝的水都没有"),
    ("water", "low_pressure", "{addr}有水，但是水特别小，{floor}楼洗澡只能接桶"),
    ("water", "low_pressure", "来电人反映{addr}供水压力偏小，热水器无法正常启动"),
    ("water", "discoloured_water", "{addr}早上接的水是黄褐色的，还有一股怪味"),
    ("water", "discoloured_water", "来电人称{addr}自来水浑浊，静置后杯底有泥沙"),
    ("water", "burst_flooding", "{addr}路边地下的自来水管破了，清水一直往外涌"),
    ("water", "burst_flooding", "来电人反映{addr}人行道供水管爆裂，水柱有一米多高"),
    ("gas", "gas_smell", "{addr}一进单元门就闻到很冲的天然气味，不敢开灯"),
    ("gas", "gas_smell", "来电人反映{addr}燃气立管处疑似漏气，有明显异味"),
    ("gas", "low_pressure", "{addr}天然气火苗蓝蓝的一点点，水都烧不开"),
    ("power", "no_power", "{addr}从{time}起整个小区黑灯瞎火，一直没来电"),
    ("power", "no_power", "来电人反映{addr}片区突发停电，家中冰箱空调均无法使用"),
    ("power", "flicker", "{addr}家里的灯泡忽明忽暗，电视也跟着闪"),
    ("drainage", "waterlogging", "{addr}一下暴雨路面就变成河了，积水到小腿"),
    ("drainage", "waterlogging", "来电人反映{addr}下穿道因降雨积水，车辆无法通行"),
    ("drainage", "drain_blocked", "{addr}路边雨水口被垃圾塞满了，水排不下去"),
    ("drainage", "manhole_overflow", "{addr}的污水检查井在往外冒脏水，臭气熏天"),
    ("other", "other", "{addr}的路灯已经坏了一个星期，晚上走路看不见"),
    ("other", "other", "来电人对{addr}本月电费金额有异议，要求核查电表读数"),
    ("other", "other", "{addr}空调外机一直往楼下滴水，楼下邻居有意见"),
    ("other", "other", "{addr}宽带断网{dur}了，运营商一直没人来修"),
    ("water", "low_pressure", "{addr}不是停水，是水压太小了，楼上根本用不了"),
    ("water", "no_water", "{addr}停水了，而且从{time}开始电也停了", "power", "no_power"),
    ("gas", "gas_smell", "{addr}楼道有煤气味，灯也一闪一闪的", "power", "flicker"),
]

CQ_FINAL: Final[list[Row]] = [
    ("water", "no_water", "{addr}屋头莫得水了，从{time}到现在一滴都没得"),
    ("water", "no_water", "喂，{addr}啷个又停水了嘛，饭都煮不成"),
    ("water", "low_pressure", "{addr}水是有，就是小得很，像猫儿尿一样"),
    ("water", "low_pressure", "我们{addr}{floor}楼水压硬是上不来，洗个澡都恼火"),
    ("water", "discoloured_water", "{addr}放出来的水黄焦焦的，啥子水哦，哪个敢喝"),
    ("water", "discoloured_water", "{addr}水管头出来的水浑得很，像稀泥巴"),
    ("water", "burst_flooding", "{addr}马路上的水管爆起了，水往上飙"),
    ("water", "burst_flooding", "{addr}街沿底下一直在冒清水，地砖都冲起来了"),
    ("gas", "gas_smell", "{addr}楼道头一股天然气味道，冲得很，你们搞快点来"),
    ("gas", "gas_smell", "{addr}灶台那点有股臭鸡蛋味，是不是漏气了哦"),
    ("gas", "low_pressure", "{addr}天然气火小得很，炒个菜都炒不熟"),
    ("power", "no_power", "{addr}遭停电了，黑黢黢的，啥子都整不成"),
    ("power", "no_power", "{addr}整栋楼都没得电，电梯也停起了"),
    ("power", "flicker", "{addr}电灯闪闪闪的，电压不稳得很"),
    ("drainage", "waterlogging", "{addr}下大雨淹起了，车子开过去都熄火了"),
    ("drainage", "waterlogging", "{addr}那个下穿道又淹起了，水凼凼好深哦"),
    ("drainage", "drain_blocked", "{addr}下水道堵起了，水排不走，漫得到处都是"),
    ("drainage", "manhole_overflow", "{addr}那个井盖盖在往外冒脏水，臭得很"),
    ("other", "other", "{addr}路灯黑了好几天了，晚上走路硬是看不到"),
    ("other", "other", "{addr}这个月水费咋个这么高哦，我要查一哈水表"),
    ("other", "other", "{addr}楼上装修天天打电钻，吵得人睡不着"),
    ("other", "other", "{addr}屋头空调不制冷了，吹出来都是热风"),
    ("power", "flicker", "{addr}电是有，就是灯一直闪，晓得是啥子情况不"),
    (
        "water",
        "burst_flooding",
        "{addr}水管爆起了，旁边配电房都淹了，遭停电了",
        "power",
        "no_power",
    ),
    ("drainage", "waterlogging", "{addr}下雨淹起了，屋头还莫得水了", "water", "no_water"),
]

EN_FINAL: Final[list[Row]] = [
    ("water", "no_water", "Taps at {addr} gave out completely around {time_en}, nothing since"),
    ("water", "low_pressure", "We have water at {addr} but the pressure is pathetic"),
    ("water", "discoloured_water", "The water at {addr} comes out tea-coloured and smells musty"),
    (
        "water",
        "burst_flooding",
        "Clean water spurting out of the pavement at {addr}, looks like a main",
    ),
    ("gas", "gas_smell", "Neighbours at {addr} say the landing smells strongly of gas"),
    ("gas", "low_pressure", "Gas rings at {addr} only give a tiny flame since {time_en}"),
    ("power", "no_power", "Everything went dark at {addr} around {time_en}, still no power"),
    ("power", "flicker", "Lights at {addr} keep browning out and coming back"),
    ("drainage", "waterlogging", "After the downpour the road at {addr} is under a foot of water"),
    ("drainage", "waterlogging", "The underpass near {addr} is flooded again after the rain"),
    (
        "drainage",
        "drain_blocked",
        "Roadside gully at {addr} is choked with leaves, rain can't drain",
    ),
    ("drainage", "manhole_overflow", "Sewage bubbling out of a manhole at {addr}, awful smell"),
    ("other", "other", "The street lamp outside {addr} has been out for days"),
    ("other", "other", "I want to dispute my water meter reading, {addr}"),
    ("other", "other", "My air conditioner at {addr} is blowing warm air"),
    ("other", "other", "Loud music from the bar at {addr} every night"),
    ("power", "flicker", "Not a power cut, the lights at {addr} just keep flickering"),
    (
        "water",
        "no_water",
        "No water and no electricity at {addr} since {time_en}",
        "power",
        "no_power",
    ),
    (
        "drainage",
        "waterlogging",
        "Street flooded by rain at {addr} and now our power is off too",
        "power",
        "no_power",
    ),
    ("gas", "low_pressure", "No gas smell, the hob at {addr} just barely lights"),
]
