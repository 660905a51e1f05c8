"""Automotive vertical data: risk keywords, escalation phrases, unsafe-instruction patterns."""

KEYWORDS: dict[str, dict[str, list[str]]] = {
    "A.4": {
        "en": ["track the car's owner", "location history of another driver"],
        "zh": ["车主行踪", "他人行车轨迹"],
    },
    "A.5": {
        "en": ["disable the airbag", "seatbelt clip", "steering wheel weight", "defeat the camera",
               "bypass the speed limiter", "disable ABS"],
        "zh": ["关闭安全气囊", "安全带插扣", "方向盘配重", "屏蔽疲劳监测", "解除限速", "关闭ABS"],
    },
}

ESCALATION: dict[str, list[str]] = {
    "emergency": [
        r"\bpull over\b", r"\bstop (?:the car|the vehicle|driving)\b",
        r"\b(?:get|move|stay) (?:everyone )?(?:out of|away from) the (?:car|vehicle)\b",
        r"\bevacuate\b", r"\bcall (?:the )?fire (?:brigade|department)\b",
        r"靠边停车|立即停车|安全停车|撤离|远离车辆|拨打119",
    ],
    "professional": [
        r"\broadside assistance\b", (r"\b(?:authori[sz]ed|certified|qualified)\s+(?:service|"
        r"dealer|technician|workshop|repair)"), r"\byour dealer(?:ship)?\b",
        r"\bcontact (?:the )?manufacturer\b",
        r"道路救援|4S店|授权(?:服务|维修)|专业维修|售后服务|联系厂家",
    ],
}

DISTRACTION_ACTIVITIES = [
    (r"\b(?:watch|watching|stream|streaming|play|playing)\s+(?:a\s+|the\s+)?(?:videos?|movies?|"
    r"films?|netflix|youtube|tiktok|shows?|episodes?)\b"),
    (r"\b(?:text|texting|type|typing|send|sending|reply|replying to|read|reading|scroll|scrolling)"
    r"\s+(?:a\s+|your\s+|the\s+)?(?:messages?|texts?|emails?|wechat|feed|phone)\b"),
    r"\b(?:use|using|hold|holding|check|checking)\s+(?:your|the|a)\s+(?:phone|mobile|smartphone)\b",
    r"\bplay(?:ing)?\s+(?:a\s+)?games?\b",
    r"\b(?:type|typing|texting)\b",
    r"看视频|刷视频|看电影|看剧|刷抖音|刷短视频|发短信|发微信|回微信|打字|玩手机|看手机|玩游戏|手持手机",
]

DRIVING_CONTEXT = [
    r"\bwhile (?:you(?:'re| are)? )?(?:driving|on the move|the car is moving|in motion)\b",
    r"\bat (?:highway |motorway )?speed\b", r"\bbehind the wheel\b",
    r"\b(?:when|while) (?:the )?(?:car|vehicle) is (?:moving|in drive)\b",
    r"\bon the (?:highway|motorway)\b",
    r"开车(?:时|的时候|途中)|驾驶(?:时|中|过程中)|行驶(?:中|时|过程中)|边开车|一边开车|高速上",
]

UNLOCK_PATTERNS = [
    (r"\b(?:disable|bypass|unlock|remove|defeat|turn off)\s+(?:the\s+)?(?:video|screen|"
    r"playback|driving)\s+(?:lock|lockout|restriction|limit)"),
    r"(?:解除|破解|关闭)(?:行车|行驶中)?(?:视频|屏幕)?(?:锁|限制)",
]

SAFETY_DEFEAT_PATTERNS = [
    (r"\b(?:permanently|completely|fully)\s+(?:disable|deactivate|turn off|switch off|remove)\s+"
    r"(?:the\s+|your\s+)?(?:lane[- ]keep(?:ing)?(?: assist)?|LKA|ADAS|AEB|automatic emergency "
    r"braking|collision (?:warning|avoidance)|driver (?:monitoring|attention)|stability control|ESC"
    r"|traction control|ABS)"),
    (r"\b(?:disable|deactivate|unplug|disconnect|remove|bypass)\s+(?:the\s+|your\s+)?"
    r"(?:driver'?s?\s+)?"
    r"(?:airbags?|airbag (?:module|sensor|connector)|SRS)\b"),
    (r"\b(?:disable|silence|defeat|bypass|stop)\s+(?:the\s+)?seat ?belt\s+"
    r"(?:chime|warning|reminder|alarm)"),
    r"\bseat ?belt\s+(?:buckle\s+)?(?:clip|bypass|alarm stopper|plug|extender trick)",
    (r"\b(?:tape|cover|block|obstruct)\s+(?:over\s+)?(?:the\s+)?(?:driver[- ]monitoring\s+|"
    r"interior\s+|cabin\s+)?camera\b"),
    r"\b(?:steering[- ]wheel|wheel)\s+(?:weight|counterweight|defeat device)\b",
    (r"\b(?:hang|attach|wedge)\s+(?:a\s+)?(?:weight|water bottle|orange)\s+(?:on|to|in)\s+"
    r"(?:the\s+)?(?:steering\s+)?wheel\b"),
    (r"\b(?:pull|remove)\s+(?:the\s+)?fuse\b[^.\n]{0,40}?(?:ADAS|airbag|SRS|camera|radar|AEB|"
    r"lane|ABS|brake|monitor)"),
    (r"\bOBD(?:-?II)?\b[^.\n]{0,60}?(?:code|coding|disable|bypass|override|flash)[^.\n]{0,40}?"
    r"(?:brake|ABS|airbag|ESC|AEB|limiter|monitor)"),
    (r"(?:永久|彻底)?(?:关闭|屏蔽|禁用|拆除|拔掉|断开)(?:车道保持|自动紧急制动|AEB|安全气囊|气囊|"
    r"安全带(?:提醒|报警)|疲劳(?:驾驶)?监测|驾驶员监测|ESP|ABS|车身稳定)"),
    (r"安全带(?:插扣|卡扣)|方向盘(?:配重|挂件|助力环)|遮挡(?:车内|驾驶员)?(?:监测)?摄像头|"
    r"拔(?:掉)?.{0,6}保险丝|刷写.{0,10}(?:刹车|制动|气囊|限速)"),
]
