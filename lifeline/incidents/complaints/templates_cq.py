"""Development templates in Chongqing dialect (``lang == "zh-cq"``), as callers say it on the
phone or type it in an app: 莫得/没得 (没有), 啥子 (什么), 咋个/啷个 (怎么), 晓得 (知道), 搞快点
(快点), 遭 (被: 遭停电), 起了 as a state (爆起了, 堵起了, 淹起了), 屋头 (家里), 一哈 (一下), 好大/
好小 (很大/很小), 恼火/遭不住 (难受), 黢黑 (很黑), 巴适 (好).

Row format as in :mod:`lifeline.incidents.complaints.templates`. Hand-written for lifeline.
"""

from __future__ import annotations

from typing import Final

from lifeline.incidents.complaints.templates import Row

CQ: Final[list[Row]] = [
    # -- water: no_water
    ("water", "no_water", "{addr}莫得水了，从{time}到现在一直莫得"),
    ("water", "no_water", "我们{addr}屋头没得水了，饭都煮不成"),
    ("water", "no_water", "喂，{addr}啷个停水了嘛，也不通知一哈"),
    ("water", "no_water", "{addr}水龙头拧开一滴水都莫得，搞快点来看一哈"),
    ("water", "no_water", "{addr}整栋楼都停水了，{dur}了，屋头老人娃儿咋个整嘛"),
    ("water", "no_water", "{addr}洗澡洗到一半遭停水了，泡泡都没冲干净"),
    ("water", "no_water", "{addr}又停水了哇，晓不晓得好久来水嘛"),
    ("water", "no_water", "{addr}厕所都冲不成了，一点水都没得"),
    ("water", "no_water", "师傅，{addr}断水{dur}了，你们到底管不管嘛"),
    ("water", "no_water", "{addr}自来水停起了，楼上楼下都莫得"),
    # -- water: low_pressure
    ("water", "low_pressure", "{addr}水压好小哦，{floor}楼根本上不来水"),
    ("water", "low_pressure", "{addr}有水，就是小得很，热水器都打不燃"),
    ("water", "low_pressure", "{addr}水流细得跟线一样，接一桶水要好半天"),
    ("water", "low_pressure", "{addr}这几天水压一哈大一哈小的，恼火得很"),
    ("water", "low_pressure", "我们{addr}楼上的水压硬是不够，洗衣机进不了水"),
    ("water", "low_pressure", "{addr}水是有，但是小得可怜，洗个澡冷一哈热一哈"),
    ("water", "low_pressure", "{addr}出水莫得力气，滴滴答答的"),
    ("water", "low_pressure", "{addr}从{time}开始水就好小，是不是管子有问题哦"),
    # -- water: discoloured_water
    ("water", "discoloured_water", "{addr}水龙头放出来的水黄的，有股铁锈味"),
    ("water", "discoloured_water", "{addr}的水浑得很，像稀泥巴水，哪个敢喝嘛"),
    ("water", "discoloured_water", "{addr}自来水有股怪味道，烧开了还是臭的"),
    ("water", "discoloured_water", "{addr}水头有黑渣渣，娃儿都不敢喝"),
    ("water", "discoloured_water", "{addr}放了{dur}水还是红的，啥子情况嘛"),
    ("water", "discoloured_water", "{addr}停水来了以后水一直是黄的，洗衣服都洗黄了"),
    ("water", "discoloured_water", "{addr}的水白花花的，像牛奶一样"),
    # -- water: burst_flooding
    ("water", "burst_flooding", "{addr}水管爆了，水往外面飙"),
    ("water", "burst_flooding", "{addr}马路上水管爆起了，路上全是水"),
    ("water", "burst_flooding", "{addr}地底下在冒水，清亮亮的，冒了{dur}了"),
    ("water", "burst_flooding", "{addr}街沿底下的水管漏得凶，地砖都拱起来了"),
    ("water", "burst_flooding", "{addr}消防栓遭车子撞了，水喷得好高"),
    ("water", "burst_flooding", "{addr}路中间有个口子一直在冒自来水，路都垮了一块"),
    ("water", "burst_flooding", "{addr}小区总水管爆起了，水流到车库头去了"),
    ("water", "burst_flooding", "{addr}阀门井一直在往外冒清水，没下雨哦"),
    # -- gas: gas_smell
    ("gas", "gas_smell", "{addr}楼道头燃气味道好大，吓死人了"),
    ("gas", "gas_smell", "{addr}有股臭鸡蛋味，是不是天然气漏了哦"),
    ("gas", "gas_smell", "{addr}天然气味道冲得很，我们都不敢开灯"),
    ("gas", "gas_smell", "{addr}灶台那点嘶嘶嘶的响，还有气味"),
    ("gas", "gas_smell", "{addr}街上的井盖盖头有天然气味，你们搞快点来"),
    ("gas", "gas_smell", "{addr}挖路的把天然气管子挖爆了，味道好大"),
    ("gas", "gas_smell", "{addr}燃气报警器一直叫，屋头有股气味"),
    ("gas", "gas_smell", "{addr}地下车库头一股燃气味，硬是冲鼻子"),
    # -- gas: low_pressure
    ("gas", "low_pressure", "{addr}天然气火好小哦，饭都煮不熟"),
    ("gas", "low_pressure", "{addr}莫得气了，灶打不燃，气费都交了的"),
    ("gas", "low_pressure", "{addr}燃气火苗一哈大一哈小，一哈就熄了"),
    ("gas", "low_pressure", "{addr}整个单元都没得天然气了，啷个回事嘛"),
    ("gas", "low_pressure", "{addr}热水器打不燃，天然气压力不够"),
    # -- power: no_power
    ("power", "no_power", "{addr}遭停电了，从{time}开始一直没来电"),
    ("power", "no_power", "{addr}整栋楼都没得电，电梯都停起了"),
    ("power", "no_power", "{addr}黑黢黢的，停电{dur}了，冰箱头的东西都要臭了"),
    ("power", "no_power", "喂，{addr}啷个又停电了嘛，屋头有老人要用制氧机"),
    ("power", "no_power", "{addr}突然断电了，外头变压器砰的响了一声"),
    ("power", "no_power", "{addr}一片都莫得电，是不是计划停电嘛，又不通知"),
    ("power", "no_power", "{addr}总闸推不上去，整个单元都黑起的"),
    ("power", "no_power", "{addr}电梯关了人，整栋楼停电了，搞快点"),
    ("power", "no_power", "{addr}好久来电嘛，已经停了{dur}了"),
    # -- power: flicker
    ("power", "flicker", "{addr}电灯闪闪闪的，电压不稳"),
    ("power", "flicker", "{addr}电压一哈高一哈低，空调自己关了好几回"),
    ("power", "flicker", "{addr}灯一哈亮一哈暗，晃得眼睛痛"),
    ("power", "flicker", "{addr}晚上电压低得很，灯泡儿都是暗的"),
    ("power", "flicker", "{addr}电一哈有一哈莫得，闪断好几回了"),
    ("power", "flicker", "{addr}电脑老是自己重启，电压不稳得很"),
    # -- drainage
    ("drainage", "waterlogging", "{addr}下大雨淹起了，水都漫到屋头来了"),
    ("drainage", "waterlogging", "{addr}那个下穿道又淹起了，车子都过不去"),
    ("drainage", "waterlogging", "{addr}一落雨就是一凼水，深得很"),
    ("drainage", "waterlogging", "{addr}暴雨过后路上的水退不下去，淹起{dur}了"),
    ("drainage", "waterlogging", "{addr}车库头进雨水了，车子都泡起了"),
    ("drainage", "waterlogging", "{addr}立交桥底下积水好深，公交车都熄火了"),
    ("drainage", "drain_blocked", "{addr}下水道堵起了，水排不走"),
    ("drainage", "drain_blocked", "{addr}路边的雨水篦子遭树叶子堵起了"),
    ("drainage", "drain_blocked", "{addr}排水沟堵死了，一下雨就漫出来"),
    ("drainage", "drain_blocked", "{addr}外头的污水管堵起了，厕所冲不下去"),
    ("drainage", "manhole_overflow", "{addr}那个污水井在冒水，臭得很"),
    ("drainage", "manhole_overflow", "{addr}井盖盖遭水顶起来了，脏水到处流"),
    ("drainage", "manhole_overflow", "{addr}化粪池漫出来了，味道遭不住"),
    # -- other: not about a lifeline
    ("other", "other", "{addr}路灯黑了，晚上走路啥子都看不到"),
    ("other", "other", "{addr}屋头空调不制冷了，热得遭不住"),
    ("other", "other", "{addr}这个月电费啷个这么高哦，电表是不是有问题"),
    ("other", "other", "{addr}水表转得飞快，我们都没用水"),
    ("other", "other", "{addr}楼上天天吵，半夜都在剁东西"),
    ("other", "other", "{addr}电梯又坏起了，爬{floor}楼要命"),
    ("other", "other", "{addr}网断了，宽带师傅喊了一天都没来"),
    ("other", "other", "{addr}楼上卫生间漏水，漏到我屋头来了"),
    ("other", "other", "{addr}垃圾堆起好几天了没人收，臭得很"),
    ("other", "other", "我想问一哈燃气费在哪点交嘛"),
    ("other", "other", "{addr}门口乱停车，我们车子都开不出去"),
    ("other", "other", "{addr}有个井盖盖莫得了，好危险哦"),
    # -- negations
    ("water", "low_pressure", "{addr}有水，就是水压好小"),
    ("water", "low_pressure", "{addr}不是莫得水，是水太小了"),
    ("water", "discoloured_water", "{addr}水是有的，就是黄得很"),
    ("power", "flicker", "{addr}没停电，就是灯闪得凶"),
    ("gas", "low_pressure", "{addr}莫得啥子气味，就是火小得很"),
    ("drainage", "waterlogging", "{addr}不是水管爆了，是下雨积起的水"),
    ("other", "other", "{addr}屋头电是好的，就是外头路灯不亮"),
    # -- two issues in one call
    ("water", "no_water", "{addr}停水了，电也遭停了", "power", "no_power"),
    ("power", "no_power", "{addr}遭停电了，水也莫得了", "water", "no_water"),
    ("drainage", "waterlogging", "{addr}下雨淹起了，屋头还遭停电了", "power", "no_power"),
    ("gas", "gas_smell", "{addr}有股天然气味道，灯还一闪一闪的", "power", "flicker"),
]

CQ_PHRASES: Final[dict[tuple[str, str], list[str]]] = {
    ("water", "no_water"): ["莫得水了", "没得水了", "停水了哦", "一滴水都莫得", "断水了嘛"],
    ("water", "low_pressure"): ["水压好小", "水小得很", "水上不来", "水莫得力气"],
    ("water", "discoloured_water"): ["水黄得很", "水浑得很", "水有股怪味道", "水头有渣渣"],
    ("water", "burst_flooding"): ["水管爆了", "水管爆起了", "地底下冒水", "水管漏得凶"],
    ("gas", "gas_smell"): ["燃气味道好大", "有股臭鸡蛋味", "天然气漏了", "气味冲得很"],
    ("gas", "low_pressure"): ["天然气火好小", "莫得气了", "灶打不燃", "气不够"],
    ("power", "no_power"): ["遭停电了", "莫得电了", "没得电了", "黑黢黢的停电了"],
    ("power", "flicker"): ["电灯闪闪闪的", "电压不稳", "灯一哈亮一哈暗"],
    ("drainage", "waterlogging"): ["淹起了", "下雨积水好深", "路上淹起了"],
    ("drainage", "drain_blocked"): ["下水道堵起了", "雨水篦子堵起了", "排水沟堵死了"],
    ("drainage", "manhole_overflow"): ["污水井冒水", "井盖盖冒脏水"],
    ("other", "other"): ["路灯黑了", "空调不制冷", "电费高得很", "电梯坏起了"],
}

CQ_FRAMES: Final[list[str]] = [
    "{addr}{p}",
    "喂，{addr}{p}，搞快点嘛",
    "{addr}{p}，晓得不嘛",
    "我们{addr}{p}，咋个整嘛",
    "{addr}从{time}开始就{p}",
    "师傅，{addr}{p}，你们来看一哈",
    "{addr}{p}，{dur}了",
]
