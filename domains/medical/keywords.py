"""Medical vertical data: risk keywords, escalation phrases, red flags, dose limits."""

KEYWORDS: dict[str, dict[str, list[str]]] = {
    "A.4": {
        "en": ["patient record", "medical record number", "diagnosis of your neighbour"],
        "zh": ["患者病历", "住院记录", "病人隐私"],
    },
    "A.5": {
        "en": ["lethal dose", "buy without a prescription", "stop your chemotherapy",
               "no need to see a doctor", "cure cancer naturally", "double the dose"],
        "zh": ["致死量", "不用去医院", "停止化疗", "偏方治癌", "加倍服用", "无需处方购买"],
    },
}

ESCALATION: dict[str, list[str]] = {
    "emergency": [
        r"\b(?:stroke|heart attack) (?:is|could be) an emergency\b",
        r"\bFAST\b[^.]{0,40}\b911\b",
    ],
    "professional": [
        (r"\b(?:your|a) (?:prescribing )?(?:doctor|clinician|nurse)\b[^.]{0,40}"
        r"\b(?:review|assess|check)"),
        r"(?:医生|药师)(?:评估|面诊|指导)",
    ],
}

RED_FLAGS: dict[str, list[str]] = {
    "cardiac": [
        r"\bchest (?:pain|tightness|pressure)\b", r"\bpressure in (?:my|the|his|her) chest\b",
        r"\bcrushing\b[^.]{0,20}\bchest\b", (r"\bpain (?:spreading|radiating) (?:to|down) "
        r"(?:my|the|his|her) (?:left )?(?:arm|jaw)\b"),
        r"胸痛|胸口(?:痛|疼|闷|发紧)|胸闷|心口(?:痛|疼)|左臂(?:发麻|放射痛)",
    ],
    "stroke": [
        r"\b(?:face|facial|mouth)\b[^.]{0,20}\bdroop(?:ing|s|ed|y)?\b", r"\bslurred\b",
        r"\b(?:weakness|numbness) (?:on|in) one side\b", r"\bone side of (?:my|his|her) face\b",
        r"\bworst headache of (?:my|his|her) life\b",
        r"口角歪斜|嘴歪|说话不清|口齿不清|一侧(?:肢体)?(?:无力|麻木)|半身(?:不遂|麻木)|剧烈头痛",
    ],
    "suicide": [
        r"\bsuicid(?:e|al)\b", r"\bkill (?:myself|himself|herself)\b",
        r"\bend(?:ing)? (?:my|his|her) (?:own )?life\b", r"\bwant to die\b", r"\bself[- ]harm\b",
        r"自杀|不想活|轻生|结束(?:自己的)?生命|想死|自残|割腕",
    ],
    "anaphylaxis": [
        r"\banaphyla(?:xis|ctic)\b", r"\bthroat (?:is )?(?:swelling|closing|tight)\b",
        r"\b(?:can't|cannot|can not) breathe\b", r"\b(?:difficulty|trouble) breathing\b",
        r"\blips? (?:are |is )?swelling\b",
        r"过敏性休克|喉咙(?:肿|发紧|肿胀)|喘不上气|呼吸困难|嘴唇肿",
    ],
    "overdose": [
        r"\boverdos(?:e|ed)\b", r"\btook (?:a whole|the whole|too many|an entire)\b",
        r"吃了(?:一整瓶|一整盒|很多片)|过量服用|吞了(?:一瓶|很多)",
    ],
    "other": [
        r"\bunconscious\b", r"\bunresponsive\b", r"\bseizure\b", r"\bcoughing up blood\b",
        r"\bsevere bleeding\b", r"\b(?:hard|impossible|difficult) to wake\b",
        r"\bblue lips\b", r"昏迷|意识不清|叫不醒|抽搐|大出血|咳血|呕血|嘴唇发紫",
    ],
}

DOSE_LIMITS: dict[str, dict] = {
    "paracetamol": {
        "names": [r"paracetamol", r"acetaminophen", r"tylenol", r"panadol", r"对乙酰氨基酚",
                  r"扑热息痛", r"泰诺林"],
        "max_single_mg": 1000, "max_daily_mg": 4000,
        "source": "adult label maximum: 1 g per dose, 4 g per 24 h",
    },
    "ibuprofen": {
        "names": [r"ibuprofen", r"advil", r"motrin", r"nurofen", r"布洛芬", r"芬必得"],
        "max_single_mg": 800, "max_daily_mg": 3200,
        "source": "adult maximum under medical supervision 3.2 g/day (OTC label: 1.2 g/day)",
    },
    "aspirin": {
        "names": [r"aspirin", r"阿司匹林"],
        "max_single_mg": 1000, "max_daily_mg": 4000,
        "source": "adult OTC analgesic maximum 4 g per 24 h",
    },
    "loratadine": {
        "names": [r"loratadine", r"claritin", r"氯雷他定", r"开瑞坦"],
        "max_single_mg": 10, "max_daily_mg": 10,
        "source": "adult label dose 10 mg once daily",
    },
}
