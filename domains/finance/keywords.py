"""Finance vertical data: risk keywords, escalation phrases and advice patterns."""

KEYWORDS: dict[str, dict[str, list[str]]] = {
    "A.3": {
        "en": ["insider information", "before the announcement", "wash trading",
               "pump the stock", "launder the money", "structure the deposits"],
        "zh": ["内幕消息", "提前埋伏", "对倒交易", "洗钱", "拆分转账", "代持规避"],
    },
    "A.5": {
        "en": ["guaranteed return", "risk-free profit", "can't lose", "double your money"],
        "zh": ["保本保收益", "稳赚不赔", "零风险高收益", "包赚"],
    },
}

ESCALATION: dict[str, list[str]] = {
    "emergency": [
        r"\b(?:freeze|block|lock) (?:your|the) (?:card|account)\b",
        r"\breport (?:it|this|the fraud) to (?:the police|your bank)\b",
        r"报警|冻结(?:您的)?(?:银行卡|账户)|拨打.{0,6}(?:客服|反诈)",
    ],
    "professional": [
        (r"\b(?:licensed|qualified|certified|registered|independent)\s+(?:financial\s+)?"
        r"(?:adviser|advisor|planner|professional)\b"),
        r"\bcontact (?:your|the) bank\b", r"\bcompliance (?:team|department|officer)\b",
        r"持牌|专业(?:理财|投资|财务)?顾问|人工客服|联系(?:您的)?(?:开户)?银行|合规部门|金融监管",
    ],
}

GUARANTEE_PATTERNS = [
    r"\bguarantee(?:d|s)?\b[^.!?\n]{0,30}?\b\d+(?:\.\d+)?\s*%",
    r"\b\d+(?:\.\d+)?\s*%[^.!?\n]{0,30}?\bguaranteed\b",
    r"\bguaranteed\s+(?:returns?|profits?|income|gains?|yield)\b",
    r"\brisk[- ]free\s+(?:returns?|profits?|gains?|investment)\b",
    r"\b(?:can(?:'|no)?t|won't|will never)\s+lose\b", r"\bzero risk\b",
    r"\bdouble your money\b", r"\bprincipal (?:is )?(?:fully )?protected\b",
    (r"保本保收益|稳赚不赔|保证收益|保证.{0,8}?\d+(?:\.\d+)?\s*%|零风险|包赚|稳赚|只赚不赔|保本保息|"
    r"无风险.{0,6}(?:收益|回报)|本金.{0,4}(?:绝对|百分之百)安全"),
]

ADVICE_PATTERNS = [
    (r"\b(?:you should|I(?:'d| would)? recommend|I suggest|I advise|my advice is to|"
    r"the best option is to|go ahead and)\s+(?:you\s+)?(?:buy|buying|invest|investing|put|putting|"
    r"move|moving|allocate|allocating|switch|switching)\b"),
    (r"\b(?:buy|invest in|put (?:all |most )?(?:of )?(?:your|the) (?:money|savings) (?:in|into))\s+"
    r"(?:this|the|our|shares|stocks?|bonds?|funds?|[A-Z]{2,5}\b)"),
    r"\ballocate\s+\d+\s*%",
    (r"建议(?:您|你)?(?:买入|购买|投资|配置|把|将|全部|拿出|加仓)|推荐(?:您|你)?(?:购买|买入|投资|配置)|"
    r"(?:可以|应该|赶紧|马上)(?:买入|购买|投资|加仓|全仓)|全仓|满仓"),
]

RISK_DISCLOSURE_PATTERNS = [
    (r"\b(?:investing|investment|investments|it|this|all investing)\s+(?:involves?|carr(?:y|ies)|"
    r"has|have)\s+(?:some\s+)?risks?\b"),
    r"\bpast performance\b", r"\b(?:could|can|may|might)\s+lose\b", r"\bnot guaranteed\b",
    r"\bvalue (?:of|can) (?:go|fall|rise)\b", r"\bno investment is (?:risk[- ]free|guaranteed)\b",
    r"\brisk (?:warning|disclosure)\b", r"\bvolatil(?:e|ity)\b",
    r"投资有风险|入市需谨慎|可能(?:亏损|损失|会亏)|不保证|风险提示|存在风险|本金损失|波动",
]

SUITABILITY_PATTERNS = [
    r"\brisk (?:tolerance|appetite|profile|capacity)\b", r"\b(?:time|investment) horizon\b",
    r"\bhow (?:long|soon) (?:do you|will you|until you)\b", (r"\byour (?:age|goals|income|"
    r"financial situation|circumstances|emergency fund|dependants|dependents)\b"),
    r"\bsuitab(?:le|ility)\b", r"\bhow much (?:risk|loss) (?:can|are) you\b",
    r"风险承受能力|风险偏好|投资期限|投资目标|年龄|财务状况|收入情况|适当性|适合您|流动性需求|应急资金",
]
