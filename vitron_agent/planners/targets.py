"""The object of a request without the words people put around it, and objects named earlier in the request.

A tagger's span often keeps words that say where or how to look rather than what to look for: the medium
("the phone in this pic"), time ("the ball in each frame", "frame by frame"), doubt ("a cup somewhere"),
a pose left over once a written box is taken out ("the person standing"), or a second sentence ("the dog
sitting in this image? i can't find it"). The experts want the thing itself. A later action that says
"it" or "them" right after a question ("what breed is this dog? also segment it", "how many cups are
there, and box each of them") means the thing the question was about.
"""

from __future__ import annotations

import re

__all__ = ["INSTRUMENT_ZH", "trim_target", "complete_target", "zh_trim", "is_pronoun", "question_subject", "zh_question_subject", "speaks_of_result",
           "without_result_place"]

_MEDIUM = r"(?:image|picture|pic|photo|photograph|snapshot|shot|frame|scene|video|clip|footage|film|movie)"
_SECOND_SENTENCE = re.compile(r"\s*[?!]\s.*$")
_WHERE_WORDS = re.compile(r"'s\s+(?:exact\s+|precise\s+)?(?:position|location|coordinates|coords|whereabouts|bounding box|box|"
                          r"place|spot)$", re.I)
_LEADING = re.compile(r"^(?:only|just|exactly|precisely)\s+(?=\S)", re.I)
_TRAILING = re.compile(
    r"(?:,?\s+(?:(?:in|on|from|of(?!\s+the\b)|(?<!back\s)(?<!front\s)(?<!side\s)(?<!edge\s)(?<!corner\s)(?<!middle\s)"
    r"(?<!center\s)(?<!centre\s)(?<!top\s)(?<!bottom\s)of|within|throughout|during|across|over|for)\s+(?:the|this|my|that|our|each|every|all)\s+"
    rf"(?:[\w-]+\s+){{0,2}}?{_MEDIUM}s?(?:\s+(?:of|in)\s+(?:the|this|my|that)\s+{_MEDIUM})?"
    r"|(?:in|on|at)\s+(?:each|every|all|any)\s+(?:frame|moment|point|second|time|instant)s?(?:\s+(?:of|in)\s+"
    rf"(?:the|this|my)\s+(?:{_MEDIUM}|[\w-]+))?"  # "in each frame of this rally"
    r"|(?:in|on)\s+(?:this|that|the)\s+one|(?:in|on|inside|within)\s+(?:it|them|there)"
    r"|(?:in|on|from|of)\s+(?:this|that|the)\s+(?:(?:new|last|latest|edited|previous|earlier|[\w-]+ed)\s+)?"
    r"(?:version|result|output|edit|copy)"  # "the buoy from that version": which picture, not the thing
    r"|as\s+(?:[\w-]+\s+)?(?:neatly|precisely|cleanly|carefully|accurately|closely|exactly|tightly|well|best|close|tight|"
    r"clean)\s+as\s+(?:you\s+(?:can|could)|possible)"  # "..., as neatly as you can": how, not what
    r"|(?:right|all\s+the\s+way)\s+down\s+to\s+(?:the\s+)?[\w' -]+|nothing\s+else|(?:and\s+)?no(?:thing)?\s+background"
    r"|pixel[- ](?:accurate|precise|exact)(?:ly)?|neatly|cleanly|carefully|accurately|tightly"
    r"|(?:on|in|under|inside|somewhere on|somewhere in)\s+this\s+(?:[\w-]+\s+)?[\w-]+"  # "the earring on this carpet": where the user looks
    r"|(?:at|in|by|near|towards?)\s+the\s+(?:very\s+)?(?:end|start|beginning|finish)(?:\s+of\s+(?:the|this|my)\s+"
    rf"{_MEDIUM})?"
    r"|(?:at|in|by|near|towards?)\s+the\s+(?:very\s+)?middle\s+of\s+(?:the|this|my)\s+"  # "in the middle" alone is a place
    rf"{_MEDIUM}"
    r"|(?:frame[- ]by[- ]frame|per[- ]frame|over time|throughout(?:\s+(?:it|them))?|through\s+(?:to\s+)?the\s+(?:rest|end)(?:\s+of\s+(?:it|the\s+[\w-]+))?|the whole time|all the time|at all times)"
    r"|as\s+(?:an?\s+)?(?:(?:clean|separate|binary|transparent|single|precise)\s+)?(?:mask|cutout|cut-out|layer|png|matte)"
    r"|(?:as|while|when|whenever|until)\s+(?:the|he|she|they|it|we|i|you|his|her|their|my)\s+[\w' -]*?\w+(?:s|ed|ing)\b[\w' -]*"
    r"|so\s+(?:that\s+)?(?:i|we|you|they|he|she)\s+(?:can|could|may|might)\s+[\w' -]+"  # when it happens, what it is for
    r"|(?:pixel[- ]perfect(?:ly)?|asap|a\.s\.a\.p\.?|real quick|right away|thanks|thx|somewhere|anywhere|only|just|"
    r"here|there|exactly|precisely|please|pls|for me|quickly|now|right now|"
    r"sitting|standing|located|positioned|placed|lying|situated|hiding|visible|starting|too|as well|"
    r"painted|colou?red|dyed|tinted|recolou?red|a\s+(?:little\s+)?bit|a\s+little|a\s+tad|a\s+touch|slightly|somewhat"
    r"|isolated|masked|segmented|separated|extracted|selected|outlined|cut\s+out"  # "the car isolated": the thing, masked
    r"|(?:right\s+)?(?:to|along|around|down\s+to)\s+(?:its|his|her|their|the)\s+(?:very\s+)?(?:edges?|outlines?|borders?|"
    r"contours?))"
    r"))+\s*[?.!]*$",
    re.I)

_DANGLING = re.compile(r"(?<=\w)\s+(?:in|on|at|inside|within),?$", re.I)
"""A preposition left at the end once the words after it went ("the drone in, frame by frame" -> "the drone")."""


_HELD_IN_IT = re.compile(r"\bwith\s+\S.*?(?P<h>\s+(?:in|on|inside|on top of)\s+(?:it|them))$", re.I)


def held_in_it(phrase: str) -> str:
    """The "in it" that ends a thing named with another thing on or in it ("the cocktail with the paper umbrella in
    it" -> " in it"): part of the name, not the output it lies in; "" for other phrases."""
    found = _HELD_IN_IT.search(phrase.strip())
    return found.group("h") if found else ""


def trim_target(phrase: str) -> str:
    """``phrase`` without the medium, time, doubt and pose words at its end ("my phone in this pic" -> "my
    phone", "the ball in each frame" -> "the ball", "the person standing" -> "the person", "the teapot painted"
    -> "the teapot")."""
    text = phrase.strip()
    held = held_in_it(text)
    if held:  # "the cocktail with the paper umbrella in it": the umbrella's place stays
        return trim_target(text[:-len(held)]) + held
    trimmed = _LEADING.sub("", _TRAILING.sub("", _SECOND_SENTENCE.sub("", text))).strip(" ,.?!")
    lit = re.search(r"\bwith\s+(?:its|his|her|their|the)\s+[\w-]+(?:\s+[\w-]+)?\s+(?:on|off)$", trimmed, re.I)
    trimmed = _WHERE_WORDS.sub("", trimmed) if lit else _DANGLING.sub("", _WHERE_WORDS.sub("", trimmed))  # "with its headlights on"
    return trimmed or text


_CONTINUES = re.compile(r"^(?:\s+from\s+the\s+(?:left|right|top|bottom|front|back)|'s\s+[\w-]+|\s+of\s+[\w' -]+|"
                        r"\s+(?:in|on|at|near|under|behind|beside|above|below|inside|next to)\s+"
                        r"(?:the|a|an|his|her|their|its)\s+[\w' -]+|\s+[\w-]+ing\s+(?:in|on|at|with|by|near|under|behind|inside|across|"
                        r"along|around|over|through)\s+(?:the|a|an|some|his|her|their|its)\s+[\w' -]+|\s+[\w-]+|"
                        r"\s+(?:that\s+)?(?:she|he|they|i|we|you)(?:'s|'re|'m|\s+is|\s+are|\s+was|\s+were|\s+am)\s+[\w-]+ing"
                        r"(?:\s+(?:on|in|at|with|by|near|under|over)\s+[\w' -]+)?)$", re.I)
_NOT_CONTINUED = re.compile(r"\b(?:box|boxed|drew|drawn|marked|selected|and|or|then|into|to|as|so|with|it|them|please|"
                            r"pls|for|again|too|also|first|instead|now|here|there|red|blue|green|yellow|white|black|"
                            r"[\w-]+ly|[\w-]+ed|gone|out|off|away)\b"
                            r"|\bfrom\s+(?!the\s+(?:left|right|top|bottom|front|back)$)", re.I)


_TITLED = re.compile(r"^(?:\s+[A-Z][\w'-]*)*\s+[a-z][\w-]+(?=\s*$|\s*,)")
"""The rest of a name written in capitals and the noun after it (" Sale sign" after "the For")."""
_BESIDE_IT = re.compile(r"^\s+(?:right\s+)?(?:next to|beside|near|behind|under(?:neath)?|above|below|on top of|in front of)\s+"
                        r"(?:it|them|him|her)$", re.I)
_CLOSEST_TO = re.compile(r"^\s+(?:that|which|who)(?:'s|\s+is|\s+are)\s+(?:closest|nearest|farthest|furthest|closer|nearer)\s+"
                         r"to\s+(?:the|a|an|my|our)\s+[\w' -]+$", re.I)
_VERB_AFTER = re.compile(r"\s+(?:is|are|was|were|be|has|have|had|does|do|did|goes|go|sits|lies|looks|seems)\b", re.I)
"""A verb after the object ("where the remote is"): no part of its name."""


_DETERMINED = re.compile(r"^(?:the|this|that|these|those|my|our|his|her|their|its|a|an|all|every|each|some|any|one|two|"
                         r"three)\b", re.I)
_CUT_HEAD = re.compile(r"(?:^|\s)(?P<h>(?:the|this|that|my|our|his|her|their|every|each|all(?:\s+(?:the|of the))?)\s+(?:[a-z][\w-]*\s+){1,2})$", re.I)
"""The words the tagger left before a target it cut short at the front ("mask the test| tube rack")."""


def complete_target(target: str, clause: str) -> str:
    """The target with what the clause says right after it, when that finishes the noun phrase the tagger cut
    short ("the plate" + "of food", "two kids" + "playing in the sand", "the bride's" + "veil"), and with a determiner
    and a noun left before it ("the test" + "tube rack"), then trimmed
    ("the goalkeeper frame" + "by frame" -> "the goalkeeper")."""
    at = clause.lower().find(target.lower())
    if not target or at < 0 or held_in_it(target):  # "the cocktail with the paper umbrella in it" is whole
        return trim_target(target)
    head = _CUT_HEAD.search(clause[:at]) if not _DETERMINED.match(target) else None
    if head:  # "the test| tube rack": the tagger left the determiner and the first noun of a compound behind
        target, at = head.group("h") + target, head.start("h")
    owner = re.match(r"\s+[\w-]+", clause[at + len(target):]) if target.endswith("'s") else None
    if owner:  # "the sign's" + "text"
        target += owner.group()
    rest = re.sub(r"\s*[?.!]+\s*$", "", clause[at + len(target):])
    whole = trim_target(target + rest)
    if len(whole) < len(target) or not rest.strip():
        return whole
    titled = _TITLED.match(rest) if re.search(r"\s[A-Z][\w'-]*$", target) else None
    if titled:  # "the For| Sale sign", "the Stop| Here banner": a name in capitals goes on to its noun
        return (target + titled.group()).strip()
    if _CLOSEST_TO.match(rest):  # "the pottery wheel that's closest to the window": which one
        return (target + rest).strip()
    if _BESIDE_IT.match(rest):  # "the pole next to it": placed by the thing named before, which is no part of the plan
        return (target + rest).strip()
    held = held_in_it(target + re.split(r"[,;.!?]", rest, maxsplit=1)[0])
    if held and not held_in_it(target):
        return target + held  # "the cocktail with the paper umbrella" + "in it": the umbrella is in the cocktail
    if _CONTINUES.match(rest) and not _NOT_CONTINUED.search(rest) and whole == (target + rest).strip():
        return whole
    kept = whole[len(target):] if whole.lower().startswith(target.lower()) else ""
    if kept.strip() and _CONTINUES.match(kept) and not _NOT_CONTINUED.search(kept) and not _VERB_AFTER.match(kept):
        return whole  # "the boom" + "mic" + "from this clip": the noun finished, the medium left out
    return trim_target(target)


_ZH_LEAD = re.compile(r"^(?:所有的?|全部的?|每一?(?:个|只|辆|位|张|条|朵|棵|头|匹|件|块|座|名|把|台)|里面的?|里头的?|上面的?|其中的?|有没有|是否有|(?:位于|处于|在)?(?:这个|那个|这|那)?(?:区域|框|范围|位置|地方)(?:里|中|内|上)?的(?=\S)|(?:这|那)?(?:里|儿|边)的(?=\S)|(?:这个)?(?:区域|框|范围)(?:里|中|内)的?|(?:这个|这段|这张|这幅)?(?:视频|照片|图片|图|画面)(?:里|中|上)?的(?=\S)|(?:第[一二三四两1-4](?:张|段|个)|这张|那张|这段|那段)?[\u4e00-\u9fff]{0,4}?(?:照片|图片|视频|画面)(?:里|中|上)的(?=\S))+")
INSTRUMENT_ZH = (r"用(?:一个|一些)?(?:红|绿|蓝|黄|白|黑|彩)?色?的?(?:方框|矩形框?|框框|边框|框|遮罩|掩码|蒙版|mask|线条|线)")
"""What a Chinese request marks with, between the object and its verb ("把自行车都用红框标出来": 用红框)."""
_ZH_TAIL = re.compile(rf"(?:帮我|给我|帮忙|麻烦你?|一样|同样|照样|都|也|全部|全都|一下|分别|各自|具体|大概|到底|究竟|现在|目前|{INSTRUMENT_ZH}|在(?:这张|这个|这段|这幅)?(?:照片|图片|图|画面|视频|画)(?:里|中|上|内)|的(?:轮廓|边缘|外形|形状|位置|坐标))+$")


def zh_trim(phrase: str) -> str:
    """A Chinese target without 所有的, 里面的 and the like in front ("所有的杯子" -> "杯子")."""
    return _ZH_TAIL.sub("", _ZH_LEAD.sub("", phrase.strip()))


_PRONOUN = re.compile(r"^(?:it|them|they|that|this|those|these|each of them|all of them|every one of them|each one|"
                      r"them all|they all|them both|both of them|all of those|"
                      r"him|her|he|she|它|它们|他们|她们|他|她|这个|那个)(?:都|也|全部|全都)?$"
                      r"|^(?:each|every|all)(?:\s+one)?(?:\s+of\s+(?:them|those|these|the ones))?\s+(?:that\s+)?(?:you|we|it)\s+"
                      r"(?:found|located|spotted|detected|boxed|marked|tracked)(?:\s+(?:earlier|before|above|just now))?$", re.I)
"""A phrase that names nothing by itself; "each one you found" names what was found."""


def is_pronoun(phrase: str) -> bool:
    """ "it", "them", "each of them", "它们": a phrase that names nothing by itself."""
    return bool(_PRONOUN.match(phrase.strip()))


_HOW_MANY = re.compile(r"\bhow many\s+(?P<t>[\w' -]+?)\s+(?:are|is|do|does|can|were|there|in|on|at|have)\b", re.I)
_ABOUT = re.compile(r"\b(?:is|are|does|do|did|was|were)\s+(?P<t>(?:the|this|that|these|those|my)\s+[\w' -]+?)"
                    r"(?:\s+(?:doing|holding|wearing|made of|called|from|in|on|at|for|like)\b|\s*[?.!,]|\s*$)", re.I)
_DOES = re.compile(r"\b(?:does|do|did|can|will)\s+(?P<t>(?:the|this|that|these|those|my)\s+[\w' -]+?)\s+[\w-]+\s*[?.!]*$", re.I)
_KIND_OF = re.compile(r"^(?:what(?:'s|\s+is|\s+are)|tell me|name|identify)\s+the\s+(?:breed|kind|type|sort|species|model|brand|make|"
                      r"colou?r|size|name|age)\s+of\s+(?P<t>(?:the|this|that|these|those|my)\s+[\w' -]+?)\s*[?.!]*$", re.I)
_THERE_IS = re.compile(r"\b(?:(?:is|are)\s+there|(?:do|can|could)\s+(?:you|u)\s+(?:see|spot|find|notice))\s+"
                       r"(?P<t>(?:an?|any|some)\s+[\w' -]+?)(?:\s+(?:in|on|at|near|inside|anywhere|here|there)\b|\s*[?.!,]|\s*$)",
                       re.I)
"""An existence question ("is there a cat in this photo?", "do you see a bike?") is about the thing it asks for."""
_THING_FIRST = re.compile(r"^(?:what|which)\s+(?:breed|kind|type|sort|species|model|brand|make|colou?r|size)\s+(?:of\s+)?"
                          r"(?P<t>[\w' -]+?)\s+(?:is|are)\s+(?:this|that|it|these|those)\b", re.I)


def question_subject(question: str) -> str | None:
    """What a question is about ("what breed is this dog?" -> "this dog", "how many cups are on the table"
    -> "cups", "what color is the car?" -> "the car", "is there a cat here?" -> "a cat"); None when it names nothing."""
    text = question.strip()
    found = _HOW_MANY.search(text)
    if found:
        return found.group("t")
    found = _THING_FIRST.match(text)
    if found:
        return f"this {found.group('t')}"
    found = _KIND_OF.match(text)  # "what's the breed of the dog?"
    if found:
        return found.group("t")
    found = _THERE_IS.search(text)
    if found:
        return re.sub(r"^(?:any|some)\s+", "", found.group("t"), flags=re.I)
    found = _DOES.search(text) or _ABOUT.search(text)
    return found.group("t").strip() if found else None


_ZH_HOW_MANY = re.compile(r"(?:有|出现了?|是)?(?:几|多少)(?:个|只|辆|张|位|条|匹|头|棵|朵|件|名)?(?P<t>[^？?，,。吗呢]+?)[？?，,。吗呢]")


def zh_question_subject(question: str) -> str | None:
    """What a Chinese counting question is about ("这张图里有几只鸟？" -> "鸟"); None otherwise."""
    found = _ZH_HOW_MANY.search(question + "？")
    return found.group("t") if found else None


_RESULT = re.compile(r"^(?:(?:and|then|now|finally|also)\s+)*(?:describe|caption)\s+(?:it|that|this)\s*[.!?]*$|"
                     r"\b(?:the|this|that)\s+(?:final|edited|new|resulting|finished|changed|modified)\b|\bthe result\b|"
                     r"\b(?:you(?:'ve)?|u)\s+(?:just\s+)?(?:made|created|generated|edited|produced|rendered)\b|"
                     r"\bwhat(?:'s|\s+is)\s+(?:left|still there)\b|\bwhat\s+remains\b|\bhow\s+(?:it|that|this)\s+(?:looks|turned out)"
                     r"\b|\b(?:the\s+)?(?:outcome|end result|after(?:math)?\s+(?:image|picture|version))\b|"
                     r"\b(?:looks?|seems?|feels?)\s+(?:any\s+)?(?:better|worse|different|cleaner|bigger|smaller|emptier|"
                     r"brighter|darker|nicer|more\s+\w+|less\s+\w+)\b|"
                     r"\b(?:if|whether|does|do|did)\s+(?:it|they|this|that|everything|the (?:edit|change|swap)s?)\s+(?:still\s+)?"
                     r"(?:looks?|seems?|feels?|came out|turned out)\s+(?:\w+\s+)?(?:natural|real(?:istic)?|right|good|ok(?:ay)?|fine|"
                     r"believable|convincing|fake|off|weird|seamless|edited|photoshopped)\b|"
                     r"\b(?:if|whether|does|do|did|are|is)\s+(?:the\s+)?[\w' -]+?\s+still\s+(?:looks?|seems?|feels?|there|visible|"
                     r"recogni[sz]able|readable|legible|ok(?:ay)?|fine|good)\b|"  # "tell me if the faces still look ok": after the edit
                     r"\bthe\s+(?:[\w-]+ed(?:[- ]up)?|new|fixed)\s+(?:image|picture|photo|pic|version|video|clip|shot)\b|"  # "the cleaned-up photo"
                     r"\b(?:describe|tell me|say)\s+(?:how|what)\s+(?:it|they|this|that|the\s+(?:[\w-]+\s+)?[\w-]+)\s+(?:now\s+)?(?:looks?|feels?|"
                     r"seems?)\b|\b(?:looks?|feels?|seems?)\s+(?:like\s+)?now\b|"  # "then describe how the room feels now"
                     r"结果|生成的|做好的|改好的|刚才|^(?:然后|再|最后|并且)?(?:描述|介绍|说说|讲讲)一下(?:它|吧)?[。！!]*$", re.I)


def speaks_of_result(clause: str) -> bool:
    """ "describe the final image", "the video you just made", "describe what's left", "tell me if it looks
    natural": the clause is about an output made here."""
    return bool(_RESULT.search(clause))


_CJK_ANY = re.compile(r"[\u3400-\u9fff]")
_IN_RESULT = re.compile(
    r",?\s+(?:in|on|from|within)\s+(?:the|that|this)\s+(?:result(?:ing\s+(?:image|picture|photo|video|clip))?|output|"
    r"(?:new|edited|final|restyled|changed|modified)\s+(?:image|picture|photo|version|one|video|clip)|(?:[\w-]+\s+){1,2}version)\b|"
    r"(?:在|从)(?:这个|那个|新的)?(?:结果|生成的图片?|改好的图片?|新图)(?:里面|里|中|上)(?:的)?", re.I)


def without_result_place(clause: str) -> tuple[str, bool]:
    """ "find the dog in the result", "在结果里找出鸽子": the clause without the words that place its object in the
    output made before it, and whether it had them (the action then reads that output, not the attached medium)."""
    cleaned = _IN_RESULT.sub("", clause)
    return (" ".join(cleaned.split()) if not _CJK_ANY.search(cleaned) else cleaned.strip()), cleaned != clause

