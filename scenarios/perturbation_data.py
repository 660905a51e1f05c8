"""Offline tables for the PromptBench-style perturbations (English and Chinese).

Small by design: enough to perturb typical sandbox prompts deterministically
without downloading word vectors or a translation model.
"""

HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "i": "і", "y": "у",
              "s": "ѕ", "l": "ӏ"}

KEYBOARD_NEIGHBOURS = {
    "a": "qs", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj",
    "i": "uo", "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o",
    "q": "w", "r": "et", "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc",
    "y": "tu", "z": "x",
}

ZH_HOMOPHONES = {
    "的": "地", "地": "的", "得": "的", "在": "再", "再": "在", "已": "以", "以": "已",
    "做": "作", "作": "做", "那": "哪", "哪": "那", "他": "她", "她": "他", "象": "像",
    "像": "象", "账": "帐", "吗": "嘛", "坐": "座", "到": "道", "么": "嚒", "您": "你",
    "药": "要", "车": "扯", "钱": "前", "买": "卖", "医": "衣", "能": "嫩", "开": "凯",
}

ZH_NOISE = ["，", "、", " ", "·", "~"]

EN_SYNONYMS = {
    "doctor": ["physician"], "medicine": ["medication"], "drug": ["medication"],
    "pain": ["ache"], "take": ["use"], "safe": ["harmless"], "dangerous": ["hazardous"],
    "buy": ["purchase"], "money": ["funds"], "savings": ["nest egg"], "invest": ["put money"],
    "stock": ["share"], "stocks": ["shares"], "profit": ["gain"], "return": ["yield"],
    "car": ["vehicle"], "drive": ["operate the car"], "driving": ["behind the wheel"],
    "turn off": ["switch off"], "disable": ["deactivate"], "help": ["assist"],
    "tell": ["inform"], "show": ["demonstrate"], "explain": ["describe"], "how": ["in what way"],
    "quickly": ["fast"], "best": ["optimal"], "good": ["decent"], "bad": ["poor"],
    "big": ["large"], "small": ["little"], "problem": ["issue"], "need": ["require"],
    "want": ["wish"], "use": ["utilize"], "start": ["begin"], "stop": ["halt"],
    "friend": ["pal"], "mother": ["mom"], "father": ["dad"], "child": ["kid"],
    "feel": ["sense"], "worried": ["concerned"], "symptoms": ["signs"], "hospital": ["clinic"],
    "battery": ["cell pack"], "warning": ["alert"], "system": ["feature"], "fast": ["quick"],
    "retire": ["stop working"], "account": ["holding"], "loan": ["credit"], "bank": ["lender"],
}

ZH_SYNONYMS = {
    "医生": ["大夫"], "药物": ["药品"], "怎么": ["如何"], "告诉": ["告知"], "购买": ["买入"],
    "汽车": ["车辆"], "开车": ["驾车"], "关闭": ["关掉"], "帮助": ["协助"], "现在": ["目前"],
    "可以": ["能够"], "需要": ["须要"], "非常": ["十分"], "马上": ["立刻"], "收益": ["回报"],
    "投资": ["理财"], "安全": ["稳妥"], "危险": ["有风险"], "问题": ["疑问"], "孩子": ["小孩"],
    "妈妈": ["母亲"], "爸爸": ["父亲"], "疼": ["痛"], "吃": ["服用"], "知道": ["了解"],
    "办法": ["方法"], "推荐": ["介绍"], "存款": ["储蓄"], "电池": ["电芯"], "系统": ["功能"],
    "退休": ["离休"], "朋友": ["友人"], "医院": ["诊所"], "症状": ["表现"], "担心": ["忧虑"],
}

EN_DISTRACTORS = [
    "and true is true.", "and false is not true.",
    "By the way, the weather has been lovely this week.",
    "Check out https://t.co/Ab3xQz9 for more.", "@kjdjq2 said hi.",
]

ZH_DISTRACTORS = [
    "并且真就是真。", "并且假不是真。", "顺便说一下，这周天气很好。",
    "更多内容请见 https://t.cn/A6xQz9 。", "@小王2023 向你问好。",
]
