"""More development templates (Mandarin and English): 12345 operators' transcriptions, drainage,
complaints that are not about a lifeline, negations and calls reporting two issues.

Row format as in :mod:`lifeline.incidents.complaints.templates`. Hand-written for lifeline.
"""

from __future__ import annotations

from typing import Final

from lifeline.incidents.complaints.templates import Row

#: how 12345 operators write a call up: third person, formal, "来电人反映 … 诉求 …"
ZH_OPERATOR: Final[list[Row]] = [
    (
        "water",
        "no_water",
        "来电人反映：其位于{addr}的住户自{time}起停水，至今未恢复，诉求尽快恢复供水",
    ),
    ("water", "no_water", "市民来电称{addr}无自来水供应已{dur}，未见停水公告，请相关单位核实处理"),
    ("water", "no_water", "来电人表示{addr}整栋楼断水，家中有老人小孩，生活不便，要求尽快处理"),
    (
        "water",
        "low_pressure",
        "来电人反映{addr}近期水压偏低，{floor}层以上用水困难，请供水企业核实",
    ),
    ("water", "low_pressure", "市民反映{addr}自来水出水量小，洗衣机无法进水，诉求排查原因"),
    ("water", "discoloured_water", "来电人反映{addr}自来水发黄浑浊，疑似水质异常，要求检测"),
    ("water", "discoloured_water", "市民来电称{addr}龙头出水有异味且颜色发黑，不敢饮用"),
    ("water", "burst_flooding", "来电人反映{addr}路段地下供水管道破裂，大量清水涌出，影响通行"),
    ("water", "burst_flooding", "市民反映{addr}有一处自来水管漏水严重，路面已有塌陷迹象"),
    ("gas", "gas_smell", "来电人反映{addr}楼道内有明显燃气异味，担心存在安全隐患，要求立即处置"),
    ("gas", "gas_smell", "市民来电称{addr}室外燃气管道疑似泄漏，周边气味较重"),
    ("gas", "low_pressure", "来电人反映{addr}天然气压力不足，灶具火焰微弱，无法正常使用"),
    ("gas", "low_pressure", "市民来电称{addr}燃气中断，家中无法做饭，未收到停气通知"),
    ("power", "no_power", "来电人反映{addr}自{time}起停电，至今未恢复供电，诉求尽快抢修"),
    ("power", "no_power", "市民来电称{addr}片区大面积停电，电梯停运，有人员被困风险"),
    ("power", "flicker", "来电人反映{addr}电压不稳，灯光频繁闪烁，家用电器受损"),
    ("power", "flicker", "市民反映{addr}夜间电压偏低，电器无法正常启动"),
    (
        "drainage",
        "waterlogging",
        "来电人反映{addr}因强降雨路面积水严重，行人车辆通行困难，要求排水",
    ),
    ("drainage", "waterlogging", "市民来电称{addr}下穿通道积水较深，已有车辆被困"),
    ("drainage", "drain_blocked", "来电人反映{addr}雨水篦子被杂物堵塞，降雨时排水不畅"),
    ("drainage", "drain_blocked", "市民来电称{addr}市政污水管道堵塞，污水排不出去"),
    ("drainage", "manhole_overflow", "来电人反映{addr}污水井冒溢，污水漫流至路面，气味难闻"),
    ("drainage", "manhole_overflow", "市民反映{addr}检查井井盖被水顶起，污水外溢"),
    ("other", "other", "来电人反映{addr}路灯不亮，夜间出行存在安全隐患，要求维修"),
    ("other", "other", "来电人对{addr}的水费账单有异议，认为用水量与实际不符"),
    ("other", "other", "市民来电咨询电费缴纳方式及阶梯电价标准"),
    ("other", "other", "来电人反映{addr}楼上住户装修噪音扰民，要求协调"),
    ("other", "other", "来电人反映{addr}小区电梯故障停运，物业未及时维修"),
    ("other", "other", "市民来电称{addr}燃气表计量不准，要求上门校验"),
]

#: complaints that are not about a lifeline incident, several of them using lifeline words
ZH_OTHER: Final[list[Row]] = [
    ("other", "other", "{addr}的路灯一到晚上就不亮，黑漆漆的"),
    ("other", "other", "{addr}小区路灯坏了好几盏，没人修"),
    ("other", "other", "{addr}家里空调不制冷，售后电话打不通"),
    ("other", "other", "{addr}空调外机滴水滴到楼下阳台上"),
    ("other", "other", "{addr}这个月电费突然翻倍，怀疑电表有问题"),
    ("other", "other", "{addr}水表走得特别快，没用水表也在转"),
    ("other", "other", "{addr}燃气费扣款两次，要求退费"),
    ("other", "other", "想问一下{addr}怎么办理水表过户"),
    ("other", "other", "{addr}的有线电视没有信号了"),
    ("other", "other", "{addr}宽带上不了网，断网好几个小时了"),
    ("other", "other", "{addr}楼上卫生间漏水，渗到我家天花板上了"),
    ("other", "other", "{addr}家里热水器坏了，想找人维修"),
    ("other", "other", "{addr}小区电梯又坏了，老人上下楼很困难"),
    ("other", "other", "{addr}广场舞音响太吵，晚上十点还在跳"),
    ("other", "other", "{addr}共享单车乱停，把人行道都堵了"),
    ("other", "other", "{addr}路边的树枝挡住了红绿灯"),
    ("other", "other", "{addr}工地晚上施工，灯光照进卧室"),
    ("other", "other", "{addr}餐馆油烟太大，熏得开不了窗"),
    ("other", "other", "{addr}小区的门禁坏了，谁都能进"),
    ("other", "other", "请问停电期间冰箱里坏掉的食物能不能赔偿"),
    ("other", "other", "{addr}供电营业厅排队太久，服务态度差"),
    ("other", "other", "{addr}充电桩充不进电，扫码也没反应"),
    ("other", "other", "{addr}物业乱收二次供水费用，要求说明"),
    ("other", "other", "{addr}的自来水公司抄表员没来抄表，账单是估的"),
    ("other", "other", "{addr}手机信号很差，打电话总是断"),
]

ZH_DRAINAGE: Final[list[Row]] = [
    ("drainage", "waterlogging", "{addr}一下大雨就积水，水都漫到门口了"),
    ("drainage", "waterlogging", "{addr}立交桥下面积水很深，公交车都过不去"),
    ("drainage", "waterlogging", "{addr}暴雨后路面积水一直退不下去，有{dur}了"),
    ("drainage", "waterlogging", "下雨天{addr}的地下车库进了雨水，车都泡了"),
    ("drainage", "waterlogging", "{addr}内涝严重，积水没过膝盖"),
    ("drainage", "waterlogging", "{addr}隧道被雨水淹了，有车熄火在里面"),
    ("drainage", "waterlogging", "{addr}低洼路段积水，行人只能蹚水过去"),
    ("drainage", "drain_blocked", "{addr}的排水沟被泥沙堵住了，一下雨就满出来"),
    ("drainage", "drain_blocked", "{addr}路边雨水篦子全是树叶，堵死了"),
    ("drainage", "drain_blocked", "{addr}小区外面的市政下水管道堵了，厕所冲不下去"),
    ("drainage", "drain_blocked", "{addr}雨水口被建筑垃圾堵了，积了一大片水"),
    ("drainage", "drain_blocked", "{addr}排水管堵塞，污水倒灌进一楼"),
    ("drainage", "manhole_overflow", "{addr}马路中间的污水井往外冒黑水"),
    ("drainage", "manhole_overflow", "{addr}的窨井盖被水冲开了，污水到处流"),
    ("drainage", "manhole_overflow", "{addr}化粪池满了往外溢，味道很大"),
    ("drainage", "manhole_overflow", "{addr}下水道井口一直冒污水，{time}就开始了"),
]

#: "it is X, not Y" and "there is X, only Y": the negated symptom must not decide
ZH_CONTRAST: Final[list[Row]] = [
    ("water", "low_pressure", "{addr}有水，就是水压好小，冲个澡要半天"),
    ("water", "low_pressure", "{addr}不是没水，是水太小了，楼上接不到"),
    ("water", "discoloured_water", "{addr}不是停水，水是有的，但是发黄"),
    ("water", "discoloured_water", "{addr}水压正常，就是水的颜色不对，有点浑"),
    ("water", "burst_flooding", "{addr}没下雨，路面却一直冒水，应该是水管爆了"),
    ("drainage", "waterlogging", "{addr}不是水管爆了，是下雨积的水排不掉"),
    ("drainage", "waterlogging", "{addr}路上的水不是自来水，是雨水没地方流"),
    ("gas", "low_pressure", "{addr}没有闻到燃气味，就是火特别小"),
    ("gas", "gas_smell", "{addr}火是正常的，但是厨房有一股燃气味"),
    ("power", "flicker", "{addr}没有停电，就是灯一直闪"),
    ("power", "flicker", "{addr}电是有的，就是电压太低，空调带不动"),
    ("power", "no_power", "{addr}不是我家跳闸，整栋楼都没电了"),
    ("other", "other", "{addr}家里电是好的，就是楼下的路灯不亮"),
    ("other", "other", "{addr}家里水电都正常，就是想问一下水费怎么交"),
    ("other", "other", "{addr}停电已经恢复了，想问问停电期间的电费怎么算"),
    ("other", "other", "{addr}不是漏气，是燃气表显示屏不亮了，要换电池"),
]

ZH_TWO: Final[list[Row]] = [
    ("water", "no_water", "{addr}停水了，而且电也停了", "power", "no_power"),
    ("power", "no_power", "{addr}停电了，水也没有了，二次供水泵停了", "water", "no_water"),
    ("water", "burst_flooding", "{addr}水管爆了，水流进配电房，现在停电了", "power", "no_power"),
    ("water", "discoloured_water", "{addr}水发黄，水压也很小"),  # one utility: one incident
    ("gas", "gas_smell", "{addr}有燃气味，而且路灯和家里都没电了", "power", "no_power"),
    ("drainage", "waterlogging", "{addr}下大雨路面积水，小区也停电了", "power", "no_power"),
    (
        "drainage",
        "manhole_overflow",
        "{addr}污水井冒水，家里的自来水也变浑了",
        "water",
        "discoloured_water",
    ),
    ("power", "flicker", "{addr}灯一直闪，燃气灶火也很小", "gas", "low_pressure"),
]

EN_OTHER: Final[list[Row]] = [
    ("other", "other", "Street lamp at {addr} is out, the road is pitch dark"),
    ("other", "other", "Several street lights broken along {addr}"),
    ("other", "other", "My air conditioning at {addr} stopped cooling"),
    ("other", "other", "Water dripping from the neighbour's AC unit onto my balcony, {addr}"),
    ("other", "other", "Electricity bill at {addr} is twice the usual, I think the meter is wrong"),
    ("other", "other", "Water meter keeps spinning even with all taps closed, {addr}"),
    ("other", "other", "I was charged twice for gas this month"),
    ("other", "other", "How do I transfer the water account to my name, {addr}"),
    ("other", "other", "Cable TV has no signal at {addr}"),
    ("other", "other", "Internet down at {addr} for {dur_en}"),
    ("other", "other", "Upstairs bathroom leaking through my ceiling at {addr}"),
    ("other", "other", "Lift out of order again at {addr}"),
    ("other", "other", "Loud party every weekend at {addr}"),
    ("other", "other", "Pothole on {addr} damaged my tyre"),
    ("other", "other", "EV charger at {addr} does not work"),
    ("other", "other", "Meter reader never came, the bill at {addr} is an estimate"),
    ("other", "other", "Will I be compensated for food spoiled in last week's power cut?"),
    ("other", "other", "My boiler at {addr} is broken, need a plumber"),
]

EN_DRAINAGE: Final[list[Row]] = [
    ("drainage", "waterlogging", "Road at {addr} flooded after heavy rain, water up to the kerb"),
    ("drainage", "waterlogging", "Underpass at {addr} under water after the storm, a car is stuck"),
    ("drainage", "waterlogging", "Rainwater ponding at {addr}, it has not drained for {dur_en}"),
    ("drainage", "waterlogging", "Car park at {addr} flooded by the rain"),
    ("drainage", "waterlogging", "Surface water flooding at {addr} every time it rains"),
    ("drainage", "drain_blocked", "Storm drain at {addr} blocked with leaves and mud"),
    ("drainage", "drain_blocked", "Gully grate at {addr} clogged, water cannot get away"),
    ("drainage", "drain_blocked", "Blocked sewer at {addr}, toilets backing up"),
    ("drainage", "drain_blocked", "Drain in the road at {addr} full of rubbish"),
    ("drainage", "manhole_overflow", "Manhole at {addr} overflowing with sewage"),
    ("drainage", "manhole_overflow", "Dirty water pushing the manhole cover up at {addr}"),
    (
        "drainage",
        "manhole_overflow",
        "Sewage spilling out of a drain cover at {addr} since {time_en}",
    ),
]

EN_CONTRAST: Final[list[Row]] = [
    ("water", "low_pressure", "There is water at {addr}, only very weak"),
    ("water", "low_pressure", "We're not without water at {addr}, it's just a trickle"),
    ("water", "discoloured_water", "Pressure is fine at {addr} but the water is brown"),
    ("water", "burst_flooding", "It hasn't rained, yet water is gushing out of the road at {addr}"),
    ("drainage", "waterlogging", "Not a burst main at {addr}, just rainwater that won't drain"),
    ("gas", "low_pressure", "No smell of gas at {addr}, the flame is just very small"),
    ("power", "flicker", "We have power at {addr} but the lights keep flickering"),
    ("power", "no_power", "It's not just my fuse box, the whole building at {addr} is dark"),
    ("other", "other", "Power is fine at {addr}, it's only the street light that is out"),
    ("other", "other", "Water is fine at {addr}, I just want to query my bill"),
]

EN_TWO: Final[list[Row]] = [
    ("water", "no_water", "No water at {addr} and the power is off too", "power", "no_power"),
    (
        "power",
        "no_power",
        "Power cut at {addr}, and the booster pump stopped so no water",
        "water",
        "no_water",
    ),
    (
        "water",
        "burst_flooding",
        "Burst main at {addr} flooded the substation, now no electricity",
        "power",
        "no_power",
    ),
    (
        "gas",
        "gas_smell",
        "Smell of gas at {addr} and the lights are flickering",
        "power",
        "flicker",
    ),
    (
        "drainage",
        "waterlogging",
        "Street at {addr} flooded by rain and our power went off",
        "power",
        "no_power",
    ),
]

ZH_MORE_PHRASES: Final[dict[tuple[str, str], list[str]]] = {
    ("drainage", "waterlogging"): [
        "积水很深",
        "马路被水淹了",
        "下雨积水很深",
        "暴雨后路面被淹",
        "内涝严重",
        "雨水排不出去淹了路",
        "下穿道积水",
        "车库进了雨水",
        "一下雨就淹",
    ],
    ("drainage", "drain_blocked"): [
        "下水道堵塞",
        "雨水篦子堵了",
        "排水沟堵死了",
        "雨水口被垃圾堵住",
        "污水管道不通",
    ],
    ("drainage", "manhole_overflow"): [
        "污水井冒水",
        "井盖往外冒污水",
        "检查井溢出污水",
        "窨井冒黑水",
    ],
    ("other", "other"): [
        "空调不制冷",
        "电费太高了",
        "水表不准",
        "宽带断网",
        "电梯坏了",
        "有线电视没信号",
        "楼上漏水到我家",
        "燃气费多扣了",
    ],
}

EN_MORE_PHRASES: Final[dict[tuple[str, str], list[str]]] = {
    ("drainage", "waterlogging"): [
        "flooded after heavy rain",
        "rainwater ponding",
        "underpass flooded by the storm",
        "surface water flooding",
    ],
    ("drainage", "drain_blocked"): [
        "storm drain blocked",
        "gully clogged with leaves",
        "blocked sewer",
    ],
    ("drainage", "manhole_overflow"): [
        "manhole overflowing with sewage",
        "sewage coming up from a drain",
    ],
    ("other", "other"): [
        "air conditioner not cooling",
        "bill is too high",
        "meter reading is wrong",
        "internet is down",
        "lift is broken",
    ],
}

ZH_MORE: Final[list[Row]] = [*ZH_OPERATOR, *ZH_OTHER, *ZH_DRAINAGE, *ZH_CONTRAST, *ZH_TWO]
EN_MORE: Final[list[Row]] = [*EN_OTHER, *EN_DRAINAGE, *EN_CONTRAST, *EN_TWO]
