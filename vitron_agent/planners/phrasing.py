"""Wordings the learned planner's templates do not cover, put into ones they do, by readable rules.

Requests written by people ask for the same few things in many more ways than templates list: location as
a question ("where exactly is the dog?" = find the dog), segmentation as a question ("which pixels belong to
the kite?"), instructions mixed into the object ("trace the lamp carefully, edge to edge" acts on "the lamp"),
several actions in one request ("segment the cup and find the faces"), prompts wrapped in politeness ("could
you make me an oil painting of a harbour at dawn"). The functions here split and rewrite the text before the
model reads it, and read the few things a rule reads more reliably than the heads: a generation or
animation prompt, which of several attached media is meant, "do the same to the second image". Chinese
objects, verbs and prompts are read in ``phrasing_zh``; the words around an object go in ``targets``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..colors import NAMED_COLORS
from .phrasing_zh import chinese_bare, chinese_vanish
from .rules import CLAUSE_SPLIT, POLITE
from .targets import held_in_it

__all__ = [
    "added_thing",
    "wanted_made",
    "asks_to_generate",
    "same_in_medium",
    "split_clauses",
    "rewrite_clause",
    "Rewritten",
    "generation_prompt",
    "generation_medium",
    "animation_prompt",
    "style_phrase",
    "medium_ordinal",
    "OTHER",
    "restyle_request",
    "colour_request",
    "named_in_box",
    "names_the_box",
    "without_source",
    "without_it",
    "added_to",
    "restyle_of_attached",
    "asks_repeat",
    "pronoun_location",
    "background_scene",
    "background_swap",
    "OWN_BACKGROUND",
    "refers_to_attached",
    "verb_object",
    "COMMAND_VERBS",
    "GO_BACK",
    "GO_BACK_WITHOUT",
    "UNDO",
    "another_with",
]

COMMAND_VERBS = (
    "segment", "mask", "cut", "outline", "isolate", "extract", "select", "separate", "carve", "pick", "trace",
    "find", "detect", "locate", "spot", "identify", "highlight", "show", "point", "box", "mark", "count",
    "track", "follow", "remove", "delete", "erase", "wipe", "get rid", "take out", "replace", "swap", "change",
    "turn", "make", "paint", "recolor", "recolour", "color", "colour", "restyle", "stylize", "stylise", "move",
    "shift", "drag", "add", "insert", "put", "place", "animate", "generate", "create", "draw", "render",
    "describe", "caption", "tell", "give", "what", "where", "which", "how", "who", "is", "are", "convert",
    "transform", "apply", "blur", "crop", "bring", "produce", "sketch", "design", "then", "also", "blot", "single",
    "get", "let", "lift", "dye", "tint", "colorize", "colourize", "keep", "label", "explain", "list", "outline",
    "set", "paste", "stick", "drop",
)
"""Words a new action starts with: "... and <verb> ..." splits a request there."""
_VERB_ALT = "|".join(sorted((re.escape(v) for v in COMMAND_VERBS), key=len, reverse=True))
_AND_SPLIT = re.compile(rf"\s*(?:,\s*(?:and\s+)?(?:also\s+)?|\s+and\s+(?:also\s+)?|\s+&\s+|\s+plus\s+|,?(?:\s+and)?\s+after that,?\s+|,?\s+as well as\s+"
                        rf"|,?(?:\s+and)?\s+afterwards,?\s+|,?\s+and finally\s+|,?\s+finally\s+|,\s*(?:and\s+)?next,?\s+|,?\s+and next,?\s+)(?=(?:(?:in|on|for|with)\s+the\s+(?:first|1st|second|2nd|third|3rd|"
                        rf"other|last)\s+(?:one|image|photo|picture|pic|video|clip),?\s+)?"  # ", and in the second one remove ..."
                        rf"(?:please\s+)?(?:(?:can|could|would|will)\s+you\s+)?(?:{_VERB_ALT})\b)",
                        re.I)
_CONDITION = (r"(?:if so|if yes|if (?:there (?:is|are)|you (?:see|find|spot)) (?:one|any|it|them)|if (?:it is|it's|they are|"
              r"they're|there is|there are))[,\s]+")
"""A condition on the answer before an action ("is there a cat? if so, cut it out"): the action is planned."""
_QUESTION_SPLIT = re.compile(rf"(?<=[?？])\s*(?=(?:(?:and|also|then|now|please|ok(?:ay)?|so)\s+|{_CONDITION})*"
                             rf"(?:(?:can|could|would)\s+you\s+)?"
                             rf"(?!(?:where|what|which|how|who|is|are)\b)(?:{_VERB_ALT})\b)|"
                             r"(?<=[?？])\s*(?=顺便|顺手|另外|同时|接着|之后|麻烦|如果有|[并再然还也把将帮请给])",
                             re.I)
"""A question followed by an action ("what breed is this dog? also segment it", "有几个苹果？顺便把它们分割出来");
"is there a cup? where?" stays one."""
_LEADING_CONDITION = re.compile(rf"^{_CONDITION}|^(?:如果有的话|如果有)[，,]?", re.I)
_ZH_BARE_MASK = r"^(?:并且|然后|再|顺便)?(?:请)?(?:给我|我要|要|生成|做|出)?(?:一个|个|一张|一份)?(?:精确的?|准确的?|的)?(?:遮罩|蒙版|掩码|mask)[吧。！!]*$"
"""A Chinese follow-up that only asks for a mask ("哪些像素属于那个花瓶？给我一个遮罩")."""
_ZH_BARE_FIND = (r"^(?:并且|然后|再|顺便)?(?:请|麻烦)?(?:你)?(?:帮我|给我|帮忙)?(?:找一下|找找看|找找|找出来|找到它|标出来|标一下|框出来|"
                 r"框一下|圈出来|指出来|指一下)(?:吧|呗|好吗|好不好)?[。！!？?]*$")
"""A Chinese follow-up that only asks to find what the question before it named ("遥控器在哪儿呢？帮我找一下")."""
_BARE_BOX = (r"^(?:(?:and|also|please|pls|now|so|just|then)\s+)*(?:(?:can|could)\s+(?:you|u)\s+)?(?:(?:box|circle|frame|mark)"
             r"\s+(?:it|them|that|those)(?:\s+(?:in|with)\s+an?\s+(?:box|rectangle))?|(?:show|mark|point)\s+(?:it\s+|them\s+)?"
             r"(?:to\s+)?(?:me\s+)?(?:it\s+|them\s+)?(?:with|in|using)\s+an?\s+(?:bounding\s+)?(?:box|rectangle)|(?:draw|put|give me)"
             r"\s+an?\s+(?:bounding\s+)?(?:box|rectangle)(?:\s+(?:around|on|over)\s+(?:it|them|that))?)(?:\s+(?:please|pls|thanks))?"
             r"\s*[.!?]*$")
"""A follow-up that only asks for the answer as a box ("where is the kite? show me with a box", "... box it")."""
_BARE_FOLLOW = re.compile(r"^(?:(?:and|also|please|now)\s+)*(?:give me |i want |i need |show me )?(?:an?\s+|the\s+|its\s+)?"
                          r"(?:(?:exact|precise|binary|actual|full)\s+)?(?:mask|pixels|outline|silhouette|cutout|shape)"
                          r"(?:\s+(?:please|of it|for it))?(?:,?\s*(?:not|rather than|instead of)\s+(?:just\s+)?(?:an?\s+)?"
                          r"(?:bounding\s+)?(?:box|rectangle)(?:es)?)?"
                          r"\s*[.!?]*$|^(?:(?:and|also|please|now|so)\s+)*(?:(?:can you\s+)?(?:show|tell) me\s+)?where(?:\s+(?:it|they)\s+"
                          r"(?:is|are))?(?:\s+(?:exactly|please))?\s*[.!?]*$|" + _BARE_BOX + "|" + _ZH_BARE_MASK + "|" + _ZH_BARE_FIND, re.I)
"""A follow-up that names nothing ("... the lake? give me a mask", "... give me its exact shape, not a box"): it belongs
to the question before it."""
_MASK_IT = re.compile(r"^(?:(?:and|also|please|now|so|just|then)\s+)*(?:mask|segment|outline|select)\s+(?:it|that|them)"
                      r"(?:\s+(?:out|please))?\s*[.!?]*$", re.I)
_WHERE_QUESTION = re.compile(r"^(?:(?:so|and|ok(?:ay)?)\s+)?(?:where\b|(?:in\s+)?(?:which|what)\s+(?:part|region|area|portion|"
                             r"section|pixels)\b)", re.I)
"""After a question of where a thing is, "mask it" asks for that answer as a mask: one segmentation, not two calls
("which part of the image is the river? mask it"); after another question it is an action of its own."""
_ANOTHER_MEDIUM = re.compile(r",?\s+and\s+(?:also\s+|separately\s+|then\s+)?,?\s*(?=(?:(?:generate|create|make|render|produce|draw|paint)"
                             r"\s+(?:me\s+)?)?(?:an?|another|one)\s+(?:\w+\s+)?(?:image|picture|photo|video|clip|"
                             r"drawing|painting|animation)\s+(?:of|showing|with)\b|another(?:\s+one)?\s+(?:of|showing|with)\b)",
                             re.I)
"""Two generations in one request ("a video of X and also an image of Y", "..., and also generate a still image of Y"):
the second with its own verb or none."""
_ANOTHER = re.compile(r"^another(?:\s+one)?\s+", re.I)
_LEFT_OUT = re.compile(r"\s+and\s+(?=(?:the|a|an|my|this|that)\s+[\w' -]+?\s+(?:in|on|from)\s+the\s+(?:first|second|third|"
                       r"last|other|1st|2nd|3rd)\b)|,?\s+as well as\s+(?=(?:the|a|an|my|this|that|all|every)\s)"
                       r"|\s+and\s+(?=the\s+(?:first|second|third|last|other|1st|2nd|3rd)\s+(?:one|image|photo|picture|pic)\s+\w)", re.I)
"""One verb for two media ("segment the car in the first picture and the bike in the second")."""
_ZH_LEFT_OUT = re.compile(r"(?:和|与|跟|以及)(?=第[一二三四1-4](?:张|个|幅|段))")
_ZH_NTH_EDIT = re.compile(r"^第[一二三四1-4](?:张|个|幅|段)[^，,。把将]*(?:换成|变成|改成|替换成|删掉|去掉|抠出来|分割出来)")
_ZH_FIRST = re.compile(r"^(?:首先|先|顺便|顺手)(?!生)")
"""先...再...: 先 only orders the actions; 顺便 ("while you're at it") only joins them."""
_ZH_ANIMATION_END = re.compile(r"(?:动起来|活起来|(?:做|变|转|弄|生成|改)成(?:一段|一个)?(?:视频|动画|动图|短片))[吧]?$")
_ZH_OWN_COMMAND = re.compile(r"^(?:[把将]|然后|再|接着|并且|同时|之后|还|也|帮我|请)|换成|删|去掉|抠|分割|跟踪|标出|找")
_ZH_BARE_COMMAND = re.compile(r"^(?:请|麻烦)?(?:你)?(?:帮我|给我|帮忙)?(?:把它|将它)?(?P<v>分割|抠图|抠|切|框|圈|删掉|删除|删|去掉|擦掉|"
                              r"跟踪|追踪|识别|标)(?:一下)?(?:出来|掉|起来|下来)?(?:吧|呗|好吗|好不好)?[。！!]*$")
"""A Chinese command that names no object ("帮我分割出来"): after a clause that only names a thing ("这个地方的那只猫，
帮我分割出来"), that thing is its object."""
_ZH_NOT_A_THING = re.compile(r"[？?吗呢哪什么谁几怎]|^(?:然后|再|接着|并且|同时|之后|还|也|帮我|请)|变|换|改|生成|画|做|加|放|移|转|"
                             r"动|染|涂|刷|漆|喷|删|去掉|找|标|框|圈|描述|识别|数|告诉|看")
"""Words that make a Chinese clause more than the name of a thing: a question, a command verb (even inside a noun:
"动物" is left as it was, which is only less helpful)."""
_ZH_SPLIT = re.compile(r"\s*(?:[，,；;。]?\s*(?:并且|而且|同时|接着|之后|然后再|再)|[，,；;。]\s*(?:最后|最终|接下来)(?:再)?|并(?=[把将给帮找分跟追删去换让抠识加放转改标框描勾告说])|[，,；;。]\s*(?:并|还|也|顺便|顺手|另外)?\s*(?=[把将给帮找分跟追删去换让抠识加放转改标框描勾告数]|第[一二三四1-4](?:张|个|幅|段)))\s*")


_GENERATES = re.compile(r"^(?:(?:please|can you|could you|would you|i want|i'd like|i would like|i need)\s+)*"
                        r"(?:generate|create|draw|paint|render|produce|design|sketch|imagine|illustrate|film|make\s+(?:me\s+)?"
                        r"(?:an?|some)\s+(?:\w+\s+)?(?:image|picture|photo|video|clip|drawing|painting|animation|movie))\b", re.I)


def asks_to_generate(clause: str) -> bool:
    """True for a request to make something new, even written as a question ("Can you generate a bold retro
    illustration of ..., orange and teal palette?", "could you draw me a ...?")."""
    return bool(_GENERATES.match(clause.strip()))


_USES_RESULT = re.compile(r"^(?:please\s+)?(?:animate|(?:[\w']+\s+){1,5}?(?:it|them|that|this|the result|the image|the picture|"
                          r"the video)\b)", re.I)


_ASKS_WHAT = re.compile(r"\b(?:which|who|what|how|why|when)\b", re.I)
"""A question word in the words before an "and": a question asked of two things after it is the same question."""


def _and_pieces(part: str) -> list[str]:
    """``part`` split on "and"/"," before a command verb; inside a generation prompt ("draw a robot that can
    paint and draw") only before an action on the result ("... and animate it")."""
    pieces, start = [], 0
    for found in _AND_SPLIT.finditer(part):
        left, right = part[start:found.start()], part[found.end():]
        sequenced = re.search(r"after that|afterwards|finally|next", found.group(), re.I)  # never inside a prompt
        if _GENERATES.match(left.strip()) and not _USES_RESULT.match(right) and not sequenced:
            continue
        asked = re.match(r"(?:which|who|what|how|why|when)\b", right, re.I)
        if asked and _ASKS_WHAT.search(left):  # "which is real and which is painted?", "how old ... and what style": one question
            continue
        pieces.append(left)
        start = found.end()
    return [*pieces, part[start:]]


_VERB_OBJECT = re.compile(rf"^(?:(?:please|now|then|and|also|just|simply|so|ok(?:ay)?|can you|could you)\s+)*(?:{_VERB_ALT})(?:\s+(?:out|up|down))?\s+"
                          r"(?P<t>(?:the|a|an|every|each|all(?:\s+the)?|my|his|her|their|its|this|that|these|those|some|any)\s+"
                          r"[^,;?!]+?)\s*[.!?]*$", re.I)


def verb_object(clause: str) -> str | None:
    """The object after a clause's command verb ("detect every window" -> "every window"), for a clause the
    tagger found no object in; None when no determiner starts one."""
    found = _VERB_OBJECT.match(clause.strip())
    return found.group("t") if found else None


def _verb_of(clause: str) -> str:
    """The words of a clause before its object ("segment the car in ..." -> "segment ")."""
    found = re.match(r"^(?P<v>(?:(?:please|now|then|also|and)\s+)*[\w-]+(?:\s+(?:out|up|off))?\s+)(?=the|a|an|my|this|that)",
                     clause.strip(), re.I)
    return found.group("v") if found else ""


_LISTED = re.compile(r"^.*?\b(?P<n>two|three|2|3)\s+(?:different\s+|separate\s+)?(?P<m>images|pictures|photos|"
                     r"drawings|paintings|illustrations|videos|clips)\s*(?::|-|–|,)\s*(?P<rest>.+)$", re.I)
_LIST_SEP = re.compile(r"\s*(?:,|;)\s*(?:and\s+)?(?=(?:one\s+(?:of|with|showing)\s+)?(?:an?|one|another|the other|some)\s)"
                       r"|\s+and\s+(?=(?:one\s+(?:of|with|showing)|another|the other)\s)", re.I)
_ONE_OF = re.compile(r"^(?:one|another|the other)\s+(?:of|with|showing)\s+", re.I)
_COUNT = {"two": 2, "2": 2, "three": 3, "3": 3}


def _listed_media(piece: str) -> list[str]:
    """ "I want two images: a cat astronaut in space, and a dog astronaut on the moon": one generation for each
    thing listed, when the list has as many items as the number says; else the piece as it is."""
    found = _LISTED.match(piece.strip())
    if not found:
        return [piece]
    items = [i for i in _LIST_SEP.split(found.group("rest")) if i.strip()]
    if len(items) != _COUNT[found.group("n").lower()]:
        return [piece]
    kind = "a video" if re.match(r"videos|clips", found.group("m"), re.I) else "an image"
    return [f"generate {kind} of " + _ONE_OF.sub("", item.strip()) for item in items]


def _pieces(part: str) -> list[str]:
    """``part`` split where a question ends and an action starts, and where a verb is left out."""
    pieces: list[str] = []
    for piece in _QUESTION_SPLIT.split(part):
        piece = _LEADING_CONDITION.sub("", piece.strip())
        if pieces and (_BARE_FOLLOW.match(piece) or _MASK_IT.match(piece) and _WHERE_QUESTION.match(pieces[-1])):
            pieces[-1] = f"{pieces[-1]} {piece}"
            continue
        pieces.append(piece)
    pieces = [listed for piece in pieces for listed in _listed_media(piece)]
    out: list[str] = []
    for piece in pieces:
        first, *rest = _ANOTHER_MEDIUM.split(piece)
        verb = _GENERATES.match(first.strip())
        out.append(first)
        named = "an image " if (generation_medium(first) or "image") == "image" else "a video "
        lead = verb.group().split()[0] if verb else "generate"
        out += [r if _GENERATES.match(r.strip()) else f"{lead} {_ANOTHER.sub(named, r)}" for r in rest]
    split: list[str] = []
    for piece in out:
        first, *rest = _LEFT_OUT.split(piece)
        ordinal = re.search(r"\b(?:first|second|third|last|other|1st|2nd|3rd)\b", first, re.I) or " as well as " in piece.lower()
        if rest and ordinal and _verb_of(first):
            split += [first, *(_verb_of(first) + r for r in rest)]
            continue
        first, *rest = _ZH_LEFT_OUT.split(piece)
        verb = re.match(r"^(?:请|帮我)?(?:分割|找到|找出|检测|标出|框出|跟踪|追踪|抠出|去掉|删掉)", first)
        split += [first, *((verb.group() if verb else "") + r for r in rest)] if rest and verb else [piece]
    return split


_TAKEN_BACK = re.compile(r"(?:^|(?<=[?!;]))[^?!;]*?(?:\.\.\.|…)\s*(?:(?:actually|wait|sorry|hmm)[,\s]+)?(?:no|nope|wait|actually|"
                         r"sorry|scratch that|i mean|rather)\b[,!.]*\s*", re.I)
"""A request corrected as it was written ("blur... no, segment the cat"): only what follows counts."""


GO_BACK = re.compile(r"^(?:(?:hmm+|ok(?:ay)?|actually|wait|no|so|and|now|oh)[,\s]+)*(?:let's\s+|lets\s+|please\s+|can you\s+|"
                     r"could you\s+)?(?:go|switch|get|jump|return|head)\s+(?:back\s+)?to\s+(?:the|my|our)\s+(?:very\s+)?(?P<b>first|original|previous|"
                     r"earlier|second|third|last)(?:\s+(?:picture|image|photo|pic|one|version|result|output|drawing|painting)\b|"
                     r"(?<=original)(?=[\s,.;]|$))"
                     r"(?:\s*(?:,|and|then))*\s*|"
                     r"^(?:还是|就|再)?(?:用|拿|回到|在|对|(?P<ba>把))?(?P<zb>刚才|刚刚|之前|前面|上次|最开始|最早|一开始|第[一二三](?:轮|次|步|版))"
                     r"[^，,。？?]*?的那(?:一)?(?:张|幅|个|版)"
                     r"(?:图片?|照片|结果|图像)?(?:上|里)?[，,\s]*", re.I)
"""Going back to an earlier result before acting on it ("actually go back to the first picture and add a hat", "go back
to the very first version", "go back to the original and ..."; "刚才换完背景的
那张，再把..." : the image made by that earlier turn)."""

UNDO = re.compile(r"^(?:(?:hmm+|ok(?:ay)?|actually|wait|no|nah|oops|ugh|sorry)[,.!\s]+)*(?:please\s+|can you\s+|could you\s+|let's\s+)?"
                  r"(?:undo|revert|reverse|cancel|scrap|drop|roll back|take back)\s+(?:that|this|it|(?:the|your|that)\s+(?:last\s+)?"
                  r"(?:one|edit|step|change|thing))(?:\s+(?:you\s+)?(?:just\s+)?did)?\s*(?:[,.;!]+\s*|\s+)(?:and\s+|then\s+|and then\s+)*"
                  r"(?=\S)|^(?:算了|不对|不行)?[，,]?(?:撤销|撤回|取消|回退|退回|还原)(?:一下)?(?:刚才|刚刚|上一步|上一次|上次)?(?:那个|那步|那一步|"
                  r"的操作|的修改|的编辑|的改动)?(?:吧)?[，,。；;\s]+(?:然后|再)?(?=\S)", re.I)
"""Undoing the last turn before the action that replaces it ("hmm, undo that and remove the bench instead", "撤销刚才那个，
改成素描风格"): the action acts on what the undone turn acted on."""


_ZH_RESULT_MEDIUM = re.compile(r"(?:(?:刚才|刚刚|刚)?(?:改|编辑|处理|换|做|修|弄|调|生成)(?:好|完)?了?|新生成)的(?P<m>视频|图片?|照片)")
"""A medium named by what was done to it ("在改好的视频里跟踪...", "把刚生成的图..."): the latest result, as 这段视频 says."""


def _this_result(clause: str) -> str:
    return _ZH_RESULT_MEDIUM.sub(lambda m: ("这段" if m.group("m") == "视频" else "这张") + m.group("m"), clause)


def _in_motion_list(before: str, piece: str) -> bool:
    """True when ``piece`` goes on the motion written after an animation's colon ("bring this photo to life: they
    smile" + "turn toward each other"), not a command of its own ("..., and remove the boat")."""
    command, colon, motion = before.partition(":")
    return (bool(colon) and bool(motion.strip()) and bool(_ANIMATION_CUE.search(command))
            and verb_object(piece) is None and not _ASKS_WHAT.match(piece.strip()) and not re.search(r"\binto\b", piece))


def split_clauses(text: str) -> list[str]:
    """The actions of a request, in order: on "then", ";" and sentences (the rule planner's split), on
    "and"/"," before a command verb, after a question followed by an action, on 并且/然后/再/接着 in
    Chinese; a verb left out is repeated ("segment the car in the first picture and the bike in the second");
    the motion after a Chinese animation command stays with it ("把这张图变成动画，让花瓣飘落"), and so does a sentence
    of motion after an animation asked without one ("Animate this photo. The leaves sway."); a medium named in
    front of an action goes with that action ("In the second image, where is the dog?")."""
    clauses: list[str] = []
    for part in CLAUSE_SPLIT.split(_TAKEN_BACK.sub(" ", text.strip()).strip()):
        for piece in _pieces(part):
            for sub in _and_pieces(piece):
                for c in _ZH_SPLIT.split(sub):
                    c = _ZH_FIRST.sub("", _ZH_MEDIUM_TAIL.sub("", _this_result(c.strip())))
                    if _ZH_NTH_EDIT.match(c):
                        c = "把" + c  # "，第二张图里的车换成牛": the 把 of the clause before
                    if not c or not c.strip(" ,，。.;；"):
                        continue
                    bare = _ZH_BARE_COMMAND.match(c.strip())
                    if clauses and bare and _names_only(clauses[-1]):  # "这个地方的那只猫，帮我分割出来": its object
                        clauses[-1] = f"把{clauses[-1].strip(' ，,')}{c.strip()[bare.start('v'):]}"
                        continue
                    if clauses and _CJK_TEXT.search(c) and _BARE_FOLLOW.match(c.strip()):  # "那把钥匙在哪儿，框出来": one call
                        clauses[-1] = f"{clauses[-1].strip()}，{c.strip()}"
                        continue
                    if clauses and _ZH_ANIMATION_END.search(clauses[-1].strip(" ，,")) and not _ZH_OWN_COMMAND.search(c):
                        clauses[-1] = f"{clauses[-1].strip()}，{c.strip()}"
                        continue
                    if clauses and _in_motion_list(clauses[-1], c):  # "bring it to life: they smile and turn ..."
                        clauses[-1] = f"{clauses[-1].strip()} and {c.strip()}"
                        continue
                    if clauses and motion_follows(clauses[-1], c):  # "Animate this photo. The leaves sway."
                        clauses[-1] = f"{clauses[-1].strip().rstrip('.!?')}: {c.strip()}"
                        continue
                    if clauses and _ONLY_PICK.match(clauses[-1].strip()):
                        joined = "" if _CJK_TEXT.search(clauses[-1]) else f"{clauses[-1].strip()} and "  # 结果: the latest anyway
                        clauses[-1] = f"{joined}{c.strip()}"  # "take the result from two steps back and ..."
                        continue
                    if clauses and _THIS_MEDIUM.match(clauses[-1].strip()):
                        clauses[-1] = c.strip()  # "In this footage, make the bus green": the attached medium, as always
                        continue
                    if clauses and _ONLY_BOX.match(clauses[-1].strip()):  # "x=50 y=30 to x=300 y=220 -> recolor green"
                        clauses[-1] = f"{clauses[-1].strip()} {c.strip()}"
                        continue
                    if clauses and (_only_medium(clauses[-1]) or _only_go_back(clauses[-1])):
                        clauses[-1] = f"{clauses[-1].strip()} {c.strip()}"  # "In the second image, where is ...?"
                        continue
                    clauses.append(c)
    if len(clauses) > 1 and _THIS_MEDIUM.match(clauses[-1].strip()):
        clauses.pop()  # "..., 就这段视频里": said after the action
    return [c.strip() for c in clauses if c.strip()]


_ONLY_BOX = re.compile(r"^(?:(?:in|inside|within|on|at|for)\s+)?(?:(?:(?:the|this|that)\s+)?(?:region|box|area|rectangle|bbox|"
                       r"patch|zone)\s*:?\s+)?WRITTENBOX\d+\s*[,:]?$|^(?:在)?WRITTENBOX\d+(?:里|中|内|处)?[，,：:]?$", re.I)
"""A clause that is only a box written in the text: the region of the action that follows it."""
_ONLY_PICK = re.compile(r"^(?:(?:hmm+|ok(?:ay)?|actually|wait|no|so|and|now|oh)[,\s]+)*(?:let's\s+|lets\s+|please\s+|can you\s+|"
                        r"could you\s+)?(?:take|use|grab|pick|start from|start with|work on|go with|switch to)\s+the\s+(?:result|output|"
                        r"image|picture|version|one|edit)\b[\w\s]*?(?:\s+instead)?\s*[,.]?$|"
                        r"^(?:把|将)?(?:这个|那个|刚才的|刚刚的|生成的|最后的)?(?:结果|成品)(?:图|视频)?$", re.I)
"""A clause that only picks an earlier result ("take the result from two steps back instead", 结果): the words in front
of the action that follows it."""
_ZH_THIS_MEDIUM = (r"(?:就|是|都)?(?:在)?(?:这|那)(?:段|张|个|幅|部)?(?:视频|图片?|照片|画面|片子|影片)(?:里|中|上)?(?:面|头)?(?:的)?"
                   r"(?:吧|哦|啊|呀)?[。！!]*$")
_THIS_MEDIUM = re.compile(r"^(?:(?:and|so|ok(?:ay)?|now)[,\s]+)?(?:(?:in|on|for|with|about)\s+)?(?:this|the|my|that)\s+"
                          r"(?!(?:first|1st|second|2nd|third|3rd|fourth|4th|last|other|next|previous|original|new|edited)\b)(?:[\w-]+\s+)?"
                          r"(?:image|picture|pic|photo|photograph|shot|video|clip|footage|film|movie|frame|scene)\s*[,:]?$|"
                          r"^" + _ZH_THIS_MEDIUM, re.I)
_ZH_MEDIUM_TAIL = re.compile(r"[，,]\s*" + _ZH_THIS_MEDIUM)
"""A clause that only names the attached medium ("In this footage,", "This photo, is it ...?", "就这段视频里"): no
action of its own."""


GO_BACK_WITHOUT = re.compile(r"^(?:(?:hmm+|ok(?:ay)?|actually|wait|no|so|and|now|oh)[,\s]+)*(?:let's\s+|lets\s+|please\s+|"
                             r"can you\s+|could you\s+)?(?:go\s+back\s+to|use|take|start\s+from|return\s+to|switch\s+back\s+to)"
                             r"\s+the\s+(?:version|one|image|picture|photo|edit|result)\s+(?:without|with\s+no)\s+"
                             rf"(?P<t>(?:the|that|those|my)\s+[\w' -]+?)(?=\s+(?:and\s+)?(?:{_VERB_ALT})\b|\s*[,.;]|$)", re.I)
"""Going back to an earlier output by what it removed ("go back to the version without the truck and add ...")."""


def _only_go_back(clause: str) -> bool:
    """A clause that only goes back to an earlier result: the words in front of the action that follows it."""
    found = GO_BACK.match(clause.strip()) or GO_BACK_WITHOUT.match(clause.strip())
    return found is not None and not clause.strip()[found.end():].strip(" ,.")


def _names_only(clause: str) -> bool:
    """A Chinese clause that only names a thing: no command verb, no question ("这个地方的那只猫")."""
    said = clause.strip(" ，,")
    return bool(_CJK_TEXT.search(said)) and not _ZH_OWN_COMMAND.search(said) and not _ZH_NOT_A_THING.search(said)


def _only_medium(clause: str) -> bool:
    """A clause that only names a medium by its place ("In the second image", "在第二张图里"): the words in front
    of the action that follows it, not an action."""
    index, rest = medium_ordinal(clause)
    return index is not None and not re.sub(r"^(?:(?:and|so|now|ok(?:ay)?|also|then|but)\b[\s,]*)+", "", rest.strip(" ,，.。:："),
                                            flags=re.I).strip(" ,，.。:：")  # "And in the other picture, ..."


_TAIL_WORDS = (r"(?:located|positioned|placed|situated|hiding|sitting|standing|exactly|precisely|right now|now|"
               r"(?:in|on|at) (?:the )?frame \d+|"
               r"(?:in|on) (?:the|this|my) (?:image|picture|photo|pic|frame|scene|shot|video|clip|footage)|here|there)")
_MEDIUM_WORDS = r"(?:image|picture|photo|pic|frame|scene|shot|video|clip|footage)"
_T = r"(?P<t>.+?)"
_END = rf"(?:\s+{_TAIL_WORDS})*\s*[?.!]*$"
_LOCATION = tuple(re.compile(p, re.I) for p in (
    rf"^where\s+(?:in|on)\s+(?:the|this|my)\s+{_MEDIUM_WORDS}\s+(?:is|are)\s+{_T}{_END}",
    rf"^where\s+(?:in|on|at|under|behind|inside|near|along|across)\s+(?:the|this|my|that)\s+[\w' -]+?\s+(?:is|are)\s+"
    rf"(?P<t>(?:the|a|an|my|our|his|her|their|any|some)\s+.+?){_END}",
    rf"^where(?:'s|s)?(?:\s+(?:exactly|precisely|abouts|the heck|the hell|on earth|in the world))?(?:\s+(?:is|are))?(?:\s+(?:exactly|precisely))?\s+"
    rf"(?!(?:is|are|does|do|did|can|could|was|were|in|on|should|would|have|has)\b){_T}{_END}",
    rf"^where\s+(?:can|could|do|would)\s+(?:i|you|we)\s+(?:find|see|spot|locate)\s+{_T}{_END}",
    rf"^(?:(?:can|could|would) you\s+)?(?:tell|show|point(?:\s+out)?) me\s+(?:exactly\s+|precisely\s+)?where\s+{_T}\s+(?:is|are)"
    rf"(?:\s+(?:located|positioned|placed|situated|sitting|standing|hiding))?(?:\s+in (?:the|this) {_MEDIUM_WORDS})?"
    rf"\s*[?.!]*$",
    rf"^(?:(?:can|could|would) you\s+)?(?:tell|show|point(?:\s+out)?) me\s+where\s+(?:is|are)\s+{_T}{_END}",
    rf"^(?:(?:give|get|show|tell) me|what(?:'s| is| are)|i need|i want|i'd like|return|output|report|provide|list|"
    rf"mark)\s+(?:me\s+)?(?:the|its|their|a)?\s*(?:exact\s+|precise\s+)?(?:pixel\s+|xy\s+|x/y\s+|per[- ]frame\s+)?(?:coordinates|coords|position|"
    rf"location|locations|positions|bounding box(?:es)?|bbox(?:es)?|box(?:es)?|whereabouts|placement|place)"
    rf"\s+(?:of|for)\s+{_T}{_END}",
    rf"^(?:is|are)\s+there\s+{_T}\s*[?,.]?\s*(?:and\s+)?(?:if so,?\s+)?where(?:\s+(?:is it|are they|exactly))?{_END}",
    rf"^(?:can you\s+)?(?:point|direct|guide)\s+me\s+(?:to|towards)\s+{_T}{_END}",
    rf"^where\s+(?:did|do|does|have|has)\s+(?:they|you|we|i|he|she|someone|somebody|people)\s+(?:hang|hung|put|place|placed|"
    rf"leave|left|park|parked|store|stored|keep|kept|set|mount|mounted|install|installed|hide|hid|hidden)\s+{_T}{_END}",
    rf"^(?:point|gesture)\s+(?:at|to|towards)\s+(?P<t>(?:the|a|an|my|our|his|her|their|this|that|any|some)\s+[^,;.!?]+?)"
    rf"(?:\s*[,;]\s+(?:i|we)\b.*)?{_END}",
    rf"^(?:(?:can|could|do)\s+(?:you|u)\s+)?(?:see|spot|find)\s+{_T}[?,.]*\s+(?:and\s+)?(?:(?:if so|please),?\s+)?"
    rf"(?:(?:show|tell) me\s+)?where\b.*$",
    rf"^(?:(?:give|get|show|tell) me|what(?:'s| is))\s+{_T}'s\s+(?:exact\s+|precise\s+)?(?:position|location|coordinates|"
    rf"whereabouts|box|bounding box)\b.*$",
    rf"^(?:in\s+)?(?:which|what)\s+(?:part|region|area|side|corner|spot)\s+of\s+(?:the|this)\s+{_MEDIUM_WORDS}\s+"
    rf"(?:has|contains|shows|holds|is|are)\s+{_T}(?:\s+in)?{_END}",
))
_WHERE_AFTER_VERB = re.compile(rf"^(?:find|locate|show|point out|spot|mark|detect|see|highlight|indicate|box|circle|tell me)\s+(?:me\s+|for me\s+)?where\s+{_T}\s+"
                               rf"(?:is|are)(?:\s+(?:located|positioned|placed|sitting|standing|hiding))?"
                               rf"(?:\s+(?:on|in|at|under|behind|near|inside|along|by)\s+(?:the|this|my|that|our)\s+[\w' -]+?)?{_END}", re.I)
_TRACK_WHERE = re.compile(rf"^(?:track|follow|trace|watch)\s+where\s+{_T}\s+(?:goes|go|moves|move|is|are|travels|runs|walks|"
                          rf"drives|flies|heads)\b.*$", re.I)
_OUT_OF = re.compile(r"^(?P<v>cut|carve|lift|pull|pick)\s+(?P<t>.+?)\s+out(?:\s+(?:of|from)\s+(?:the|this|my)\s+(?:image|"
                     r"picture|photo|pic|background|scene|shot|frame|drawing|painting|sketch|artwork|poster))?"
                     r"(?:,?\s+(?:as|into|in|on)\s+(?:an?\s+|its\s+|their\s+)?(?:(?:clean|separate|own|binary|alpha|"
                     r"transparent|single|new)\s+)*(?:mask|cutout|cut-out|layer|png|sticker|matte|image))?"
                     r"(?:[\s,]+(?:precisely|carefully|neatly|cleanly|exactly|please|pls|for me|thanks))*"
                     r"(?:[\s,]+(?:so|because|since)\b.*)?\s*[.!?]*$", re.I)
"""Pulled out of the picture, also as a thing made of it ("lift the sneaker out of the photo as a clean mask"), with
how or a please after it ("lift the salmon fillet out of the picture, precisely please") or what it is for ("lift the
jar out of this photo so I can drop it into a flyer")."""
_OFF_BACKGROUND = re.compile(r"^(?:lift|pull|peel|take|separate|detach|isolate|extract|get|pluck|split|cut|free|pry|unstick)\s+"
                             r"(?:(?:out|away)\s+(?=the\b|a\b|an\b|my\b|this\b|that\b))?(?P<t>.+?)\s+(?:off|from|away from|out of|clear of)\s+(?:(?:the|its|his|her|their|this|that)\s+(?:\w+\s+)?"
                             r"(?:background|backdrop|surroundings|bg)\b|everything\s+(?:else|around\s+(?:it|them|him|her))\b|"
                             r"(?:all\s+)?the\s+rest\b|all\s+the\s+other\s+(?:stuff|things|objects)\b)"
                             r"(?:\s+(?:in|of|on)\s+(?:the|this|my)\s+(?:\w+\s+)?(?:image|picture|photo|pic|shot|frame|scene))?"
                             r"(?:\s*[,;:\-–]\s*.*|\s+(?:so|for|because|to|as)\b.*)?\s*[.!?]*$", re.I)
"""Taking a thing off its background (or away from everything else) keeps the thing: its mask ("lift the sneaker off the background, I want to
reuse it"), whatever follows (a purpose) aside."""
_LIFT_OFF = re.compile(r"^(?:lift|peel|pluck|pry)\s+(?P<t>(?:the|a|an|my|our|this|that|his|her|their)\s+[^,;]+?)\s+(?:off|from)\s+"
                       r"(?:the|its|his|her|their|this|that)\s+[\w-]+(?:\s*[,;:\-–]\s*.*|\s+(?:so|for|because|to|as)\b.*)?\s*[.!?]*$", re.I)
"""Lifting a thing off what it lies on keeps the thing ("lift the bishop off the board, I want a sticker of it"): its mask."""
_MOVES_IN_VIDEO = re.compile(rf"^where\s+(?:does|do|did)\s+{_T}\s+(?:go|move|run|end up|walk|travel|head|drive|fly|swim)"
                             rf"\b.*$", re.I)
_OVER_TIME = re.compile(r"\b(?:each|every|all)\s+frames?\b|\bthroughout\b|\bover time\b|\bthe whole (?:clip|video)\b|"
                        r"\bas (?:it|he|she|they) (?:moves?|goes|go|runs?)\b|\bframe by frame\b|每一?帧|整个视频|一直", re.I)
_PIXELS = re.compile(rf"^(?:(?:show|tell) me\s+)?(?:exactly\s+|precisely\s+)?(?:which|what)\s+(?:pixels|(?:area|region|part)(?: of the "
                     rf"(?:image|picture|photo))?)\s+(?:are part of|is part of|belong to|belongs to|make up|makes up|"
                     rf"form|cover|show|depict|contain|represent|are|is)\s+{_T}\s*[?.!]*$|^what\s+is\s+the\s+(?:mask|silhouette|exact outline)\s+of\s+"
                     rf"(?P<t2>.+?)\s*[?.!]*$|^(?:(?:show|tell) me\s+)?(?:which|what)\s+(?:pixels|(?:area|region|part)(?:\s+of\s+the\s+(?:image|picture|photo))?)\s+"
                     rf"(?:does|do|did)\s+(?P<t3>.+?)\s+"
                     rf"(?:cover|occupy|take up|fill|span|use|belong to|sit on)\s*[?.!]*$|^(?:(?:show|tell) me\s+)?(?:exactly\s+|precisely\s+)?"
                     rf"(?:which|what)\s+(?:pixels|(?:area|region|part)(?:\s+of\s+the\s+(?:image|picture|photo))?)\s+"
                     rf"(?P<t4>(?:the|this|that|my|our|his|her|their)\s+.+?)\s+(?:covers|occupies|takes up|fills|spans|sits on)\s*[?.!]*$",
                     re.I)
_EVERY_PIXEL = re.compile(rf"^(?:mark|select|highlight|colou?r|paint|give me|get|find|show me|label|cover|fill|pick out|pick|grab|"
                          rf"extract|isolate|take|pull out|copy|return|list)\s+"
                          rf"(?:(?:just|only|exactly|precisely)\s+)?(?:every|each|all(?: of)?(?: the)?|the|exactly the)\s+pixels?\s+"
                          rf"(?:of|in|that belongs? to|belonging to|on|covering|making up|that (?:are|is|make up|form|belong to)|"
                          rf"which (?:are|is))\s+{_T}\s*[?.!]*$", re.I)
_AREA_QUESTION = re.compile(rf"^(?:in\s+)?(?:which|what)\s+(?:part|region|area|portion|section|pixels)\s+(?:of\s+(?:the|this|my)\s+"
                            rf"{_MEDIUM_WORDS}\s+)?(?:is|are)\s+(?:(?:covered|taken up|occupied|filled)\s+by\s+)?{_T}"
                            rf"(?:\s+(?:in|on))?(?:\s*[-–—,:]\s*[\w ,]+?\s+or\s+[\w ]+)?\s*[?.!]+\s*(?P<rest>.*)$", re.I)
_WANTS_MASK = re.compile(r"\b(?:mask|pixels?|segment(?:ation)?|outline|silhouette|cut ?out|exact shape)\b", re.I)
_WANTS_SEPARATED = re.compile(rf"^(?:i\s+(?:want|need|would like)|i'd like|get|give me|have)\s+{_T}\s+(?:separated|cut out|isolated|"
                              rf"extracted|masked(?: out)?|segmented|lifted out|pulled out|on (?:its|his|her|their) own|by (?:itself|himself|herself|"
                              rf"themselves)|alone|(?:with|on) (?:a\s+)?(?:transparent|clear|empty|blank) background|with no background|"
                              rf"without (?:the|its|any|a) background)(?:\s+(?:from|of|off|with|on)\s+.+?)?"
                              rf"(?:\s+(?:as\s+an?\s+[\w-]+|for\s+(?:my|our|a|an|the|some)\s+[^,;.!?]+?))*\s*[.!?]*$",
                              re.I)
_BACKGROUND_OFF = re.compile(rf"^(?:knock out|remove|cut away|drop|delete|erase|get rid of|strip(?: away)?|lose|take away)\s+"
                             rf"the background\s+(?:behind|around|from|of|off)\s+{_T}\s*[.!?]*$", re.I)
"""Taking the background away from a thing keeps the thing: its mask ("knock out the background behind the singer")."""
_REMOVES = re.compile(r"^(?:remove|delete|erase|get rid of|eliminate)\s+(?!(?:the\s+)?(?:background|colou?r|style)\b)", re.I)
_ONLY_THING = re.compile(rf"^(?:(?:please|pls|now|can you|could you)\s+)*(?:(?:i\s+(?:want|need|would like)|i'd like|give me|keep|show me|"
                         rf"select|isolate|pick out|grab|extract|cut out|mask|segment|outline)\s+)?(?:(?:just|only)\s+|(?=(?:the|this|that|these|those|my|his|her|our|their)\s))"
                         rf"{_T},?\s+"
                         rf"(?:and\s+)?(?:(?:no|without(?:\s+the)?|not the)\s+background|nothing\s+else)"
                         r"(?:,?\s+(?:pixel[- ](?:accurate|perfect|precise|exact)(?:ly)?|precisely|exactly|cleanly|neatly|please|"
                         r"pls|thanks|as an?\s+(?:mask|cutout|cut-out|png|transparent png)))*\s*[.!?]*$", re.I)
"""Asking for one thing and nothing else ("give me just the goldfish, nothing else", "just the lamp, no background",
"select just the bowl, nothing else"):
its mask; said after a cut-out of the same thing, the same cut-out."""
_SHOW_ONLY = re.compile(r"^(?:(?:can|could)\s+(?:you|u)\s+)?(?:show me|let me see|i\s+(?:only\s+)?want to see|display|give me)\s+"
                        r"(?P<only>just\s+|only\s+)?(?P<t>[^,;:]+?)(?(only)|\s+(?:only|alone|by itself|on its own))"
                        r"(?:\s+(?:please|pls|thanks))?\s*[.!?]*$", re.I)
"""Asking to see one thing alone ("show me only the dog", "let me see just the red car"): its mask."""
_ZH_SHOW_ONLY = re.compile(r"^(?:请|麻烦)?(?:你)?(?:帮我)?(?:只|就只|单独)(?:给我看|给我显示|显示|看|留下|保留|要)(?P<t>[^，,。！!]+?)"
                           r"(?:就行了?|就好了?|就可以了?|就够了|一个)?(?:吧|呗)?[。！!]*$")
"""The same in Chinese ("只给我看那只小狗就行", "只保留那辆红车")."""
_TAKE_OUT = re.compile(r"^take\s+out\s+(?P<t>(?:the|a|an|that|this|those|these|my|our|all the|every)\s+[^,;]+?)"
                       r"(?:\s+(?:from|in)\s+(?:the|this|my)\s+(?:image|picture|photo|pic|shot|scene))?\s*[.!]*$", re.I)
"""Taking a thing out of the picture, with nothing about keeping it, removes it ("take out the plastic bag")."""
_DISAPPEAR = re.compile(rf"^(?:make|let|have)\s+{_T}\s+(?:disappear|vanish|go away|be gone|fade away|invisible)\b.*$", re.I)
_KIND_OF = re.compile(r"^(?:identify|recogni[sz]e|name|determine|figure out|work out|guess|classify)\s+(?:the|this|that|its|his|"
                      r"her|their)\s+(?:[\w-]+\s+){0,2}?(?:species|breed|kind|type|model|make|brand|variety|genre|make and model)"
                      r"\b", re.I)
"""Naming what kind a thing is ("identify the bird species here") is a question, not a location."""
_READS = re.compile(r"^(?:read|transcribe|decipher|spell out)(?:\s+(?:me|us|out|aloud|out loud|for me|back))*\s+"
                    r"(?:what|whatever|the|this|that|all|any|everything)\b", re.I)
"""Reading text out of the picture ("read me what the note on the fridge says") is a question, not a location."""
_SAYS = re.compile(r"^(?:and\s+|so\s+)?(?:what|which)(?:\s+(?:time|number|date|word|words|text|name|price|temperature|score))?\s+"
                   r"(?:does|do|did|is|are)\s+.+?\s+(?:say|says|read|reads|show|showing|display|displaying|tell|indicate)\b"
                   r"(?:\s+(?:right now|now|exactly))?\s*[?.!]*$", re.I)
"""What a clock, sign or screen says ("what time does the clock on the wall say", "what does the scoreboard show"):
a question, not a location."""
_TWO_SIDED = re.compile(r"\b(?P<w>which|who)\b[^?]+?\band\s+(?P=w)\b", re.I)
"""A question asked of two things at once ("which one is the real cup and which is painted?"): an answer, not a location."""
_BY_BOXING = re.compile(r"^.*?\b(?:by|with|via)\s+(?:putting|drawing|placing|adding|using)\s+(?:a\s+|one\s+)?(?:bounding\s+)?"
                        r"(?:box|boxes|rectangle|rectangles)\s+(?:on|around|over)\s+(?P<t>(?!(?:them|it|those|these|him|her)\b).+?)\s*[.!?]*$", re.I)
"""An action done by boxing things ("count the sheep by putting a box on each sheep"): boxes on what it names."""
_COUNTED = re.compile(r"^(?:(?:please|can you|could you)\s+)*(?:count|find|mark|show|number|tally)\s+(?:all\s+)?(?P<t>(?:the|my|all the)\s+"
                      r"[\w' -]+?)\s+(?:by|with|via)\b", re.I)
"""What is counted or found before "by ... each one" ("count the ducks by drawing a box around each one")."""
_WRITES = re.compile(r"^(?:write|draft|compose|give me|come up with|suggest|make|create)\s+(?:me\s+|us\s+)?(?:an?|some|the|one)?\s*"
                     r"(?:(?:short|brief|quick|one[- ]line|two[- ]line|good|catchy|concise|detailed|descriptive|fun|nice|"
                     r"punchy|simple|accurate|funny|witty|clever|cute|silly|sweet|cheesy|poetic|creative|"
                     r"(?!(?:of|with|for|in|on|at|about|to|and)\b)[\w'-]+(?=,|\s+and\s|\s+(?:[\w'-]+\s+)?(?:alt|caption|"
                     r"description|title|summary|headline|blurb|tagline|post|tweet)))(?:,\s*|\s+and\s+|\s+))*"
                     r"(?:alt[- ]?text|caption|description|title|summary|headline|blurb|tagline)s?\b", re.I)
"""Text written about the picture ("write a short alt-text caption for this image", "come up with a title for it",
"write a short, funny Instagram caption for this"): an answer."""
_EXISTS = re.compile(rf"^(?:(?:do|can|could)\s+(?:you|u)\s+(?:see|notice)|(?:is|are)\s+there)\s+{_T}\s*[?.!]*$", re.I)
"""Whether a thing is there ("do you see a ladder?") is a question; asked with "where" it is a location (above)."""
_PRONOUN_OBJECT = re.compile(r"^(?:it|them|him|her|that|this|those|these)$", re.I)
_LEAD_ADVERB = re.compile(r"^(?:carefully|precisely|neatly|cleanly|accurately|exactly|just|quickly|tightly|simply)\s+", re.I)
_QUALIFIERS = re.compile(
    r"(?:,\s*|\s+|^)(?:(?:very|really|super|nice and|as)\s+)?(?:carefully|precisely|accurately|exactly|cleanly|neatly|"
    r"tightly|tight|perfectly|properly|thoroughly|closely|in detail|pixel[- ]by[- ]pixel|edge[- ]to[- ]edge|"
    r"to the pixel|down to the (?:last )?pixel|with (?:clean|sharp|crisp|tight|precise|smooth) (?:edges|borders|"
    r"outlines?|boundaries)|along (?:its|their|the|his|her) (?:edges|edge|outline|contours?|borders?|boundary)|"
    r"(?:as )?(?:precisely|accurately|tightly|cleanly|closely|carefully|exactly) as (?:you can|possible)|"
    r"(?:(?:nice|nice and|with|keep(?:ing)?(?: the)?)\s+)?(?:clean|sharp|crisp|tight|smooth|neat|precise)\s+(?:edges|borders|"
    r"outlines?|boundaries|cut)|at the pixel level|all the way around|including (?:its|their) edges|from (?:the|its) (?:background|surroundings)|"
    r"from everything else|and nothing else|if you can|if possible|for me|please)(?=\s*(?:[,.!?]|$))",
    re.I)
_VERB_SYNONYMS = tuple((re.compile(p, re.I), r) for p, r in (
    (r"^(?:paint|brush|blot|white|blank|black|scrub|wipe|rub|airbrush|photoshop|clone|edit)\s+(?:over|out|away)\s+", "remove "),
    (r"^(?:cover up|wipe away|zap|nuke|vanish|clear away|take away|do away with)\s+", "remove "),
    (r"^(?:single out|delineate|lift out|mask off|mark out the pixels of|silhouette|matte(?: out)?|lasso|clip out|snip out|"
     r"cookie[- ]cut|cut around|pluck out|scoop out|give me (?:an? )?(?:alpha |binary |segmentation |clean )?(?:matte|mask|cutout|cut-out) (?:of|for)|"
     r"(?:make|create|generate|produce) (?:me )?(?:an? )?(?:alpha |binary |segmentation |clean )?(?:matte|mask|cutout|cut-out) "
     r"(?:of|for))\s+", "segment "),
    (r"^(?:banish|ditch|eliminate|axe|nix|scrap|evict|purge|lose|hide|conceal|clean up)\s+", "remove "),
    (r"^(?:box|bound|(?:put|draw) (?:a |the )?(?:bounding )?box(?:es)? (?:around|on))\s+(?=(?:the|a|an|all|every|each|this|that|"
     r"these|those|my)\b)", "find "),
    (r"^(?:keep tabs on|keep an eye on|monitor|stay locked on|stay on|follow along)\s+", "track "),
))
_PRONOUN_LOCATION = re.compile(r"^(?:(?:and|then|also)\s+)?(?:(?:tell|show|give) me\s+)?(?:where\s+(?:is|are)\s+"
                               r"(?:he|she|it|they|them)\b|where\s+(?:he|she|it|they)\s+"
                               r"(?:is|are|goes|go|ends up)|(?:his|her|its|their)\s+(?:position|location|coordinates|"
                               r"box|boxes|whereabouts)|where\s+(?:he|she|it|they)\s+(?:is|are))\b.*$|"
                               r"^(?:report|mark|give|tell me)\s+(?:his|her|its|their)\s+(?:position|location|"
                               r"coordinates|box|boxes)\b.*$|"
                               r"^(?:并且|然后|再|并|还要?)?(?:告诉我|说说|看看)?(?:它们|它|他们|他|她们|她)(?:最后|最终|后来|一直|每一?帧)?"
                               r"(?:停|跑|去|走|到)?(?:在哪里?|在哪儿|去哪了?|到哪了?|的位置|在什么位置)", re.I)
_ZH_QUALIFIERS = re.compile(r"(?:(?:非常|很|尽量|要)?(?:精确|精准|仔细|准确|完整|干净|小心|细致|认真|精细)地?|沿着?(?:它的|边缘)?边缘|"
                            r"一个像素都不(?:要)?(?:差|漏))(?=.)")
_ZH_LOCATION = (re.compile(r"^(?:请问|请你|请|麻烦)?(?:你)?(?:帮我|给我)?(?:告诉我|看看|看一下|找找|找一下|查一下|瞧瞧)?(?P<t>.+?)(?:去哪了|去哪儿了|去哪里了|跑哪去了|跑到哪(?:里|儿)?了?|在哪里|在哪儿|在哪|的位置在哪里?|在什么位置|在什么地方|在(?:图片?|照片|画面|视频|图像)(?:里|中|上)?的?"
                           r"(?:哪里|哪儿|什么位置|什么地方|哪个位置|哪个地方))(?:呢|啊|呀|嘞|哇)?[？?。！!]*$"),
                re.compile(r"^(?:请问|请你|请|麻烦)?(?:帮我|给我)?(?:告诉我|给我|给出|标出|指出|说出|找出|求出|输出|标记出?|框出)(?P<t>.+?)的(?:位置|坐标|框|边界框)+"
                           r"(?:是多少|在哪|变化|的变化|轨迹|怎么变)?[？?。！!]*$"),
                re.compile(r"^(?:请问|请你|请|麻烦)?(?P<t>[^，,。？?]+?)的(?:位置|坐标|具体位置|具体坐标)(?:是多少|是什么|在哪里?|在哪儿)[？?。！!]*$"))
_ZH_THANKS = re.compile(r"[，,。.！!\s]*(?:谢谢|多谢|感谢|麻烦了|辛苦了)(?:你|您)?(?:啦|了|哈|啊|呀)?[。.！!~～]*$")
"""Thanks after a Chinese request ("...的坐标，谢谢。"): no part of it."""
_ZH_OVER_TIME = re.compile(r"(?:在)?(?:每一?帧|每个画面|每一刻)(?:里|中|上)?都?|一直|始终")
_CJK_TEXT = re.compile(r"[\u3400-\u9fff]")
_ZH_MATTE = re.compile(r"^(?:请|帮我)?给(?P<t>[^，,。]+?)(?:做|生成|弄|来)(?:一个|个|一张)?(?:遮罩|蒙版|掩码|抠图|mask)[吧。！!]*$|"
                       r"^(?:请|帮我)?(?:给我|我要|我想要|生成|做)(?:一个|个|一张|一份)?(?P<t2>[^，,。]+?)的(?:遮罩|蒙版|掩码|mask)[吧。！!]*$")
"""A mask asked for as a thing: "给图中的马做一个遮罩", "给我一个小孩的精确遮罩" (the qualifier dropped before)."""
_ZH_MASK_TAIL = re.compile(r"[？?，,]\s*" + _ZH_BARE_MASK[1:])
_ZH_FIND_TAIL = re.compile(r"(?:(?<=[？?])|[，,])\s*" + _ZH_BARE_FIND[1:])
_ZH_PIXELS = re.compile(r"^(?P<t>.+?)(?:的像素|占了?哪些像素|是哪些像素)[？?。！!]*$|^哪些像素(?:属于|是)(?P<t2>.+?)的?[？?。！!]*$")


@dataclass(frozen=True)
class Rewritten:
    """A clause in the templates' words, and the object a rule read from it (None: the model reads it)."""

    text: str
    target: str | None = None
    task: str | None = None
    """The task the rule's verb means ("ground", "segment", "track", "remove" or "answer"; None: the model decides)."""


_RULE_TASKS = (("find ", "ground"), ("track ", "track"), ("segment ", "segment"), ("remove ", "remove"), ("cut out ", "segment"),
               ("delete ", "remove"), ("erase ", "remove"), ("get rid of ", "remove"), ("eliminate ", "remove"),
               ("找出", "ground"), ("跟踪", "track"), ("把图中的", "segment"), ("把", "remove"))


def _ruled(text: str, target: str | None = None) -> Rewritten:
    """A clause a rule rewrote, with the task its new verb means."""
    task = next((t for lead, t in _RULE_TASKS if text.lower().startswith(lead)), None)
    return Rewritten(text, target, task)


_TASK_LABEL = re.compile(r"^(?P<l>bbox(?:es)?|boxe?s?|det(?:ect)?|detection|find|locate|loc|where|seg(?:ment)?|"
                         r"segmentation|mask|cut\s?out|track(?:ing)?|remove|rm|del(?:ete)?|erase)"
                         r"(?:\s+(?:pls|plz|please))?\s*(?::|->|=>)\s*(?P<t>[^:].*?)\s*[.!]*$", re.I)
"""A task written as a label before its object, command-line style: "bbox: every traffic cone", "seg: the kite",
"track: the cyclist in yellow", "rm: the watermark"."""
_LABEL_VERBS = (("bbox", "detect "), ("box", "detect "), ("det", "detect "), ("seg", "segment "), ("mask", "segment "),
                ("cut", "segment "), ("track", "track "), ("r", "remove "), ("del", "remove "), ("erase", "remove "))


def _task_label(body: str, on_video: bool) -> Rewritten | None:
    """ "bbox: X" -> "detect X" (boxes, on a video too), "seg: X" -> "segment X", "find: X" -> find (a track on a
    video), "track: X", "rm: X" -> remove; the object is what follows the label, whole."""
    found = _TASK_LABEL.match(body)
    if found is None or not _plain_object(found.group("t")):
        return None
    label, target = found.group("l").lower(), found.group("t")
    if "WRITTENBOX" in target or "?" in target:  # "box: 10, 20, 210, 220 - what animal is that?": a box, a question
        return None
    verb = next((v for lead, v in _LABEL_VERBS if label.startswith(lead)), "track " if on_video else "find ")
    task = {"detect ": "ground", "segment ": "segment", "track ": "track", "remove ": "remove",
            "find ": "ground"}[verb]
    return Rewritten(verb + target, target, task)


_CALL_IT = re.compile(r"^(?:would|do|did|should|could)\s+(?:you|we|i|people|most people)\s+(?:call|say|consider|count|classify|"
                      r"describe)\s+(?:this|that|it|these|those|the|my|our)\b|^(?:is|are|was|were|does|do|did|has|have)\s+"
                      r"(?:the|this|that|these|those|it|he|she|they|my|our|his|her)\b[^.!]*?\s+or\s+[^.!]+$", re.I)
"""An opinion or an either-or asked about the picture, question mark or not ("would you call this haircut a bob or a lob",
"Is the barber using clippers or scissors in this pic")."""


def rewrite_clause(clause: str, on_video: bool) -> Rewritten:
    """``clause`` in the templates' words: location and pixel questions as commands, qualifiers dropped,
    uncommon verbs as common ones. Other clauses come back unchanged."""
    text = clause.strip()
    lead = POLITE.match(text)
    body = text[lead.end():] if lead else text
    whole = _LEAD_ADVERB.sub("", body)  # before "from the background" goes as a qualifier
    body = _LEAD_ADVERB.sub("", _QUALIFIERS.sub("", body).strip(" ,"))
    body = _ZH_THANKS.sub("", _ZH_QUALIFIERS.sub("", body))
    find = "track " if on_video else "find "  # a location on a video is asked for each frame
    labelled = _task_label(body, on_video)
    if labelled is not None:
        return labelled
    if (_KIND_OF.match(body) or _READS.match(body) or _SAYS.match(body) or _TWO_SIDED.search(body) or _WRITES.match(body)
            or _CALL_IT.match(text)):
        return Rewritten(text, None, "answer")
    found = _BY_BOXING.match(body)
    each = found and re.fullmatch(r"(?:each|every)(?:\s+one)?(?:\s+of\s+them)?", found.group("t").strip(), re.I)
    named = _COUNTED.match(body) if each else None
    if named:  # "count the ducks by drawing a box around each one": boxes on the ducks
        return _ruled(find + named.group("t"), named.group("t"))
    if found and _plain_object(found.group("t")):  # "count the sheep by putting a box on each sheep": boxes on each
        return _ruled(find + found.group("t"), found.group("t"))
    found = _AREA_QUESTION.match(body)
    if found and _plain_object(found.group("t")):
        verb = "segment " if _WANTS_MASK.search(text) else find  # "pixel by pixel, which region ... is X?"
        target = re.sub(r"^(?:a\s+)?part\s+of\s+", "", found.group("t"), flags=re.I)
        return _ruled(verb + target, target)
    for pattern in _LOCATION:
        found = pattern.match(body)
        if found and _plain_object(found.group("t")):
            after = re.split(r"[?？]", body, maxsplit=1)[1:]  # "where is the kite? segment it": its mask
            verb = "segment " if after and _WANTS_MASK.search(after[0]) else find
            return _ruled(verb + found.group("t"), found.group("t"))
    found = _EXISTS.match(body)
    if found and _plain_object(found.group("t")):
        return Rewritten(text, None, "answer")
    found = _WHERE_AFTER_VERB.match(body)
    if found and _plain_object(found.group("t")):
        return _ruled(find + found.group("t"), found.group("t"))
    found = _TRACK_WHERE.match(body)
    if found and _plain_object(found.group("t")):
        return _ruled(("track " if on_video else "find ") + found.group("t"), found.group("t"))
    found = _OUT_OF.match(body)
    if found and _plain_object(found.group("t")):
        verb = "pick" if found.group("v").lower() == "pick" else "cut"  # "lift the pineapple out of this shot": its mask
        return _ruled(f"{verb} out {found.group('t')}", found.group("t"))
    found = (_OFF_BACKGROUND.match(body) or _OFF_BACKGROUND.match(whole)  # "isolate the violin from the background"
             or _LIFT_OFF.match(body))
    if found and _plain_object(found.group("t")):
        return _ruled("segment " + found.group("t"), found.group("t"))
    found = _TAKE_OUT.match(body)
    if found and _plain_object(found.group("t")):
        return _ruled("remove " + found.group("t"), found.group("t"))
    found = _MOVES_IN_VIDEO.match(body)
    if found and _plain_object(found.group("t")):
        return _ruled(("track " if on_video else "find ") + found.group("t"), found.group("t"))
    asked, _, follow = body.partition("? ")
    if follow and _BARE_FOLLOW.match(follow.strip()):  # "What area ... does X cover? Give me the mask, not a box."
        body = asked + "?"
    found = _PIXELS.match(body) or _EVERY_PIXEL.match(body)
    if found:
        target = next(g for g in found.groups() if g)
        return _ruled("segment " + target, target)
    found = _WANTS_SEPARATED.match(body)
    if found and _plain_object(found.group("t")):
        return _ruled("segment " + found.group("t"), found.group("t"))
    found = _BACKGROUND_OFF.match(body) or _ONLY_THING.match(body) or _SHOW_ONLY.match(body)
    if found and _plain_object(found.group("t")):
        return _ruled("segment " + found.group("t"), found.group("t"))
    found = _DISAPPEAR.match(body)
    if found and _PRONOUN_OBJECT.match(found.group("t")):
        return _ruled("remove " + found.group("t"))  # "make him invisible": the thing found before
    if found and _plain_object(found.group("t")):
        return _ruled("remove " + found.group("t"), found.group("t"))
    vanish = chinese_vanish(body)
    if vanish:
        target = chinese_bare(vanish)
        return _ruled("把" + target + "删掉", target)
    body = _ZH_OVER_TIME.sub("", body) if _CJK_TEXT.search(body) else body
    masked = _ZH_MASK_TAIL.search(body) if _CJK_TEXT.search(body) else None
    if masked:  # "...在哪？给我一个遮罩": the question asked as a mask
        body = body[:masked.start() + (body[masked.start()] in "？?")]  # "...就行，要蒙版": the comma goes
    body = _ZH_FIND_TAIL.sub("", body) if _CJK_TEXT.search(body) else body  # "...在哪儿呢？帮我找一下": the question says it
    found = _ZH_SHOW_ONLY.match(body) if _CJK_TEXT.search(body) else None
    if found:  # "只给我看那只小狗就行，要蒙版": that thing alone, its mask
        return _ruled("把图中的" + chinese_bare(found.group("t")) + "分割出来", chinese_bare(found.group("t")))
    for pattern in _ZH_LOCATION:
        found = pattern.match(body)
        if found:
            target = chinese_bare(found.group("t"))
            if masked:
                return _ruled("把图中的" + target + "分割出来", target)
            return _ruled(("跟踪视频里的" if on_video else "找出图中的") + target, target)
    found = _ZH_MATTE.match(body)
    if found:  # "给图中的马做一个遮罩": a mask of it
        target = chinese_bare(next(g for g in found.groups() if g))
        return _ruled("把图中的" + target + "分割出来", target)
    found = _ZH_PIXELS.match(body)
    if found:
        target = chinese_bare(next(g for g in found.groups() if g))
        return _ruled("把图中的" + target + "分割出来", target)
    for pattern, verb in _VERB_SYNONYMS:
        if pattern.match(body):
            return _ruled(pattern.sub(verb, body, count=1))
    if _REMOVES.match(body):  # "remove the person in the box": the verb says it is a removal
        return _ruled(f"{lead.group() if lead else ''}{body}".strip(), None)
    return Rewritten(f"{lead.group() if lead else ''}{body}".strip() if body else text)


def _plain_object(phrase: str) -> bool:
    """A phrase that names a thing (not "you", "we", "this taken"...)."""
    words = phrase.lower().split()
    return bool(words) and words[0] not in ("i", "you", "we", "this", "it", "they", "he", "she", "there", "was", "were",
                                            "that") and len(words) <= 10


def pronoun_location(clause: str) -> bool:
    """ "(and tell me) where she is in each frame", "告诉我它最后停在哪里": asks where the thing just found or tracked
    is."""
    return bool(_PRONOUN_LOCATION.match(clause.strip()))


_GEN_LEAD = re.compile(
    r"^(?:for\s+(?:a|an|my|our|the|some)\s+[\w'-]+(?:\s+[\w'-]+){0,2}?\s*,?\s+(?=i\b|can\b|could\b|please\b|pls\b|generate\b|create\b|"
    r"make\b|draw\b|give\b))?"  # "For a poster I want an image of ...": who it is for
    r"(?:(?:(?:please|pls|now|then|and|also|ok(?:ay)?|so|hey|hi|yo|can|could|would|will|you|u|kindly|just|maybe|"
    r"i want you to|i'd like you to|i would like you to|help me|let's|lets|go ahead and)\b[\s,]*)*)"
    r"(?:(?:generate|create|make|draw|paint|render|produce|design|sketch|imagine|illustrate|film|visualize|visualise|"
    r"dream up|whip up|come up with|give|show|get|do|i(?:'d| would)? (?:like|love|want)|(?:i\s+)?(?:really\s+)?need|i want|"
    r"(?:i\s+)?(?:could|can|would)\s+(?:really\s+|totally\s+|definitely\s+)?use|i'm looking for|im looking for|looking for|"
    r"can i (?:get|have)|"
    r"could i (?:get|have)|may i have|to see|to have)(?:\s+(?:me|us|for me))?\s*(?:[:,-]\s*)?)+", re.I)
_GEN_MEDIUM = re.compile(r"^(?:(?:an?|some|one|the)\s+)?(?:(?:brand[- ])?new\s+|short\s+|quick\s+|little\s+|brief\s+|"
                         r"(?:\d+|[a-z]+)[- ]?(?:second|sec|s|minute)s?(?:[- ]long)?\s+|(?:high[- ]resolution|hd|4k)\s+|"
                         r"time[- ]?lapse\s+|slow[- ]motion\s+|animated\s+|still\s+)*"
                         r"(?:image|picture|pic|photo|photograph|video|vid|clip|animation|gif|movie|film|"
                         r"footage|video clip)s?\s*"
                         r"(?:of|showing|where|depicting|about|in which|that shows|with|featuring|:)\s+", re.I)
_GEN_TAIL = re.compile(r"(?:[\s,]+(?:please|pls|plz|for me|thanks|thank you|if you can|if possible))+\s*[.!?]*$|[\s.!?]+$", re.I)


_LABELLED = re.compile(r"^(?:(?:an?|the)\s+)?(?P<m>image|img|picture|pic|photo|video|vid|clip|animation|movie|gif|drawing|"
                       r"painting)(?:\s+(?:pls|plz|please))?\s*[:\-–]\s*"
                       r"(?P<p>.+?)\s*[.!]*$", re.I)
_VIDEO_WORDS = re.compile(r"^(?:video|vid|clip|animation|movie|gif|film|footage|timelapse|time-lapse)", re.I)
_GEN_MEDIUM_WORD = re.compile(r"^(?:(?:an?|some|one)\s+)?(?:[\w-]+\s+){0,3}?(?P<m>image|picture|pic|photo|photograph|illustration|"
                              r"drawing|painting|render|rendering|portrait|poster|logo|icon|wallpaper|artwork|sketch|diagram|infographic|"
                              r"blueprint|schematic|cartoon|comic|doodle|video|vid|clip|animation|gif|movie|"
                              r"film|footage|timelapse|time-lapse)s?\b(?!\s+(?:photo|photograph|still|poster|portrait|image|picture|pic|shot|"
                              r"camera)s?\b)", re.I)
"""The medium a generation names first; a video word before a still's ("a 1970s film photo", "a movie poster") only
describes the still."""


_STILL_OF = re.compile(r"^(?:an?\s+)?(?:(?!animated\b)[\w-]+\s+){0,2}?(?:cartoon|comic|doodle|drawing|painting|sketch|"
                       r"illustration|watercolou?r|portrait|poster)\s+of\b", re.I)
"""A request that is only the picture ("a cartoon of a penguin on a skateboard"): a still, not a clip."""


_STILL_VERB = re.compile(r"\b(?:draw|paint|sketch|illustrate|doodle)\b", re.I)
"""Verbs that make a still whatever the words after them ("draw ... in the style of a Ghibli film")."""


def generation_medium(clause: str) -> str | None:
    """ "image" or "video": what a generation request asks for, by the medium it names first ("create an
    image showing ..." -> "image", "video: drone shot ..." -> "video"); None when it names none."""
    text = clause.strip()
    found = _LABELLED.match(text)
    if found is None:
        lead = _GEN_LEAD.match(text)
        if lead is None or not lead.group().strip():
            bare = _GEN_MEDIUM.match(text)  # "image of an empty hospital parking garage ..., cinematic": the medium first
            if bare:
                return "video" if re.search(r"\b(?:video|vid|clip|animation|gif|movie|film|footage)s?\b", bare.group(), re.I) \
                    else "image"
            return "image" if _STILL_OF.match(text) else None
        found = _GEN_MEDIUM_WORD.match(text[lead.end():].strip())
        if found is None and _STILL_VERB.search(lead.group()):
            return "image"  # "could you draw a cozy office in the style of a Ghibli film, ...": drawn, so a still
    if found is None:
        return None
    return "video" if _VIDEO_WORDS.match(found.group("m")) else "image"


def generation_prompt(clause: str) -> str | None:
    """The prompt of a generation request: everything but the asking ("could you make me") and the bare
    medium ("an image of"); subject, style and setting stay ("an oil painting of a harbour at dawn").
    A medium written as a label keeps what follows it ("video: drone shot over a forest").
    None when no asking verb starts the clause (the model's span is used then)."""
    text = clause.strip()
    labelled = _LABELLED.match(text)
    if labelled:
        return labelled.group("p")
    lead = _GEN_LEAD.match(text)
    if (lead is None or not lead.group().strip()) and _GEN_MEDIUM.match(text):  # "vid of a neon street in the rain"
        return _GEN_TAIL.sub("", _GEN_MEDIUM.sub("", text, count=1)).strip(" ,:;") or None
    if lead is None or not lead.group().strip():
        return None
    rest = _GEN_MEDIUM.sub("", text[lead.end():].strip(), count=1)
    rest = _GEN_TAIL.sub("", rest).strip(" ,:;")
    return rest or None


_STILLS = (r"(?:image|picture|photo|pic|still|drawing|painting|illustration|result|one|portrait|scene|landscape|shot|"
           r"snapshot|selfie|artwork|poster|sketch|render|frame|version|output|mural|postcard|print|canvas|photograph)")
"""What an animation request may call the picture it animates ("bring this portrait to life - ...")."""
_ANIMATE_LEAD = re.compile(
    rf"^(?:.*?\b(?:animate|bring)\s*(?:this|the|my|that|it|our)?\s*(?:(?:first|second|last|latest|new|edited|final|attached|"
    rf"uploaded|original|current)\s+)?"
    rf"(?:(?:[\w'-]+\s+){{0,2}}?{_STILLS}\b\s*(?:of\s+(?:my|our|his|her|their|the|a|an)\s+[\w' -]+?\s+(?=to life\b))?)?"
    rf"(?:to life\s*)?|(?:make|get|let)\s+(?:this|the|my|it)\s*(?:{_STILLS}|"
    rf"scene)?\s+(?:move|moving|be moving|come alive|come to life|alive|animated|dynamic)\s*|(?:turn|make|convert|transform)\s+(?:this|the|my|it|that|them|"
    rf"the result)\s*{_STILLS}?\s+(?:into|to)\s+|(?:make|create|generate|produce|render)\s+(?:an?\s+)?(?:(?:short|quick|little|looping|looped|seamless|"
    rf"subtle|slow)\s+)*(?:video|clip|animation|gif|movie|loop)\s+(?:out of|from|of|using|based on)\s+(?:this|the|my|it|that)\s*{_STILLS}?\s*)"
    r"(?:(?:into|as|to)\s+)?(?:an?\s+)?(?:(?:short|quick|little|[\w-]+[- ]second)\s+)*"
    r"(?:(?:video|clip|animation|gif|movie|film)\b\s*)?"
    r"(?:(?:so that|so|such that|where|in which|with|showing|of|that shows|to show|and make|making)\s+|[:,\-–—]\s*)"
    r"(?P<p>(?![^:,;]*\bto life\s*[.!?]*$).+)$|"
    r"^(?:(?:please|now|then|and|can you)\s+)*(?:give|add)\s+(?:this|the|my|it)\s*(?:image|picture|photo|pic)?\s+(?:some\s+)?"
    r"(?:motion|movement|life|animation)\s*(?:[:,-]|with|so that|so|where)\s*(?P<p2>.+)$|"
    r"^(?:(?:please|now|then|and|also)\s+)*animate\s+(?P<p3>(?:the|a|an|some|his|her|its|their)\s+(?!(?:image|picture|photo|pic|"
    r"result|painting|drawing|one|still)\b)[\w' -]+?\s+[\w-]+ing\b.*)$|"
    r"^(?:(?:please|now|then|and|also)\s+)*animate\s+(?:it|this|that|them|the result)\s+(?P<p4>(?!using\b)[a-z-]+ing\b.*)$",
    re.I)


_MOTION = (r"(?:move|moves|wave|waves|flow|flows|drift|drifts|sway|sways|ripple|ripples|spin|spins|fly|flies|dance|"
           r"dances|run|runs|swim|swims|rise|rises|fall|falls|blow|blows|flutter|flutters|shimmer|sparkle|twinkle|"
           r"rotate|rotates|roll|rolls|crash|crashes|float|floats|glide|glides|flicker|flickers|jump|jumps|walk|walks|"
           r"bounce|bounces|shake|shakes|melt|melts|grow|grows|bloom|blooms|blink|blinks|come alive|come to life|"
           r"rustle|rustles|splash|splashes|burn|burns|turn|turns|swing|swings|fade|fades|pulse|pulses|wag|wags|flop|flops|"
           r"flap|flaps|smile|smiles|nod|nods|wink|winks|wiggle|wiggles|twitch|twitches|breathe|breathes|laugh|laughs)")
_MAKE_MOVE = re.compile(rf"^(?:(?:please|can you|could you|would you|now|then|and)\s+)*(?:make|let|get)\s+(?P<t>.+?)"
                        rf"(?:\s+(?:in|on|of)\s+(?:this|the|my)\s+(?:image|picture|photo|pic|still|scene))?\s+"
                        rf"(?P<v>{_MOTION}\b.*?)\s*[.!?]*$", re.I)
_ZH_MOVE = re.compile(r"^(?:请|帮我)?让(?:这张|这幅)?(?P<t>(?:(?:图片?|照片|画面|图像)(?:里|中|上)的)?[^，,。]+?)"
                      r"(?P<v>(?:飘|动|飞|转|流|摇|跳|跑|游|闪|摆|晃|升|飘动|流动|转动|飞舞|摇摆|闪烁)\S*?起来|动起来|"
                      r"一(?P<r>[闪晃摇跳动眨飘])一(?P=r)的?|(?:慢慢|轻轻|缓缓)?(?:飘落|落下|飘下|流下|升起|飘散|转圈|摇摆|闪烁|飘动|"
                      r"流动|飞舞|摆动|眨眼|旋转)(?:下来|起来|着)?)[吧。！!]*$")


_MEDIUM_ITSELF = re.compile(r"^(?:it|this|that|(?:this|the|my|that) (?:image|picture|photo|pic|still|scene|one)|"
                            r"(?:这张|这幅)?(?:图片?|照片|画面|图像)|片|张图片?|它|它们|这个|结果)$", re.I)


_ANIMATION_CUE = re.compile(r"\b(?:animate|bring\b.*\bto life|move|come alive|come to life|(?:into|to)\s+(?:an?\s+)?"
                            r"(?:(?:short|quick|little)\s+)?(?:video|clip|animation|gif|movie))\b", re.I)
_MOTION_SENTENCE = re.compile(rf"^(?!(?:please|then|now|and|also|can|could|would|will|what|which|how|who|why|where|is|are|do|"
                              rf"does|did)\b)(?:[\w'-]+\s+){{0,6}}?(?:(?:should|must|will|can|could)\s+(?:\w+ly\s+)?)?"
                              rf"(?:{_MOTION}|(?!(?:thing|something|anything|everything|nothing|ring|king|wing|morning|evening|"
                              rf"building|ceiling|painting|drawing|clothing|string|spring)\b)[a-z-]+ing)\b[^?]*$", re.I)
_NAMED_STILL = re.compile(rf"\b(?P<p>in|on|of|from)\s+(?:my|our|this|the)\s+(?P<w>[\w-]+)\s+{_STILLS}\b", re.I)
"""A picture named by what it shows ("the water in my waterfall photo"): the place in it is that thing."""
_HAVE_IT = re.compile(rf"^(?:have|make|let|get)\s+(?=(?:[\w'-]+\s+){{1,4}}?{_MOTION}\b)", re.I)
"""The verb that asks for the motion, before it ("have her blink", "make his tail wag"): the motion is the rest."""
_SENTENCES = re.compile(r"^(?P<a>.+?)[.?!]+\s+(?P<b>\S.*)$")


def motion_follows(command: str, sentence: str) -> bool:
    """An animation asked for without its motion, then a sentence that describes one ("Can you make this picture
    move?" + "The boat rocking gently on the waves."): the sentence is the motion."""
    described = _MOTION_SENTENCE.match(sentence.strip()) or _SCENE_SENTENCE.match(sentence.strip())
    commands = re.match(r"(?:(?:and|then|now|also)\s+)*(?:animate|generate|create|render|remove|replace|add|recolou?r|"
                        r"restyle|segment|track|find|cut|erase|delete|swap)\b", sentence.strip(), re.I)
    return bool(_ANIMATION_CUE.search(command)) and bool(described) and commands is None \
        and _ANIMATE_LEAD.match(POLITE.sub("", command.strip())) is None


_SCENE_SENTENCE = re.compile(r"^(?:the|a|an|his|her|its|their|my|our)\s+(?:[\w'-]+\s+){0,3}?"
                             r"(?!(?:is|was|has|does|looks|seems|feels|needs|means)\b)[a-z]+s\s+(?!(?:it|this|that|them)\b)"
                             r"[^?]*[.!]?$", re.I)
"""A sentence that says what a thing does, present tense ("the train pulls out of the station and the pigeons scatter"):
after an animation asked without its motion, that is the motion (a command starts with its verb; a question ends
with "?")."""


def animation_prompt(clause: str) -> str | None:
    """The motion an animation request asks for ("animate this image so the flag waves" -> "the flag
    waves", "make the clouds in this picture drift slowly" -> "the clouds drift slowly"); None when it
    names none."""
    text = clause.strip()
    two = _SENTENCES.match(text)
    if two and motion_follows(two.group("a"), two.group("b")):  # "make this picture move? The boat rocking ..."
        text = f"{two.group('a')}: {two.group('b')}"
    found = _ANIMATE_LEAD.match(POLITE.sub("", text))
    if found is not None:
        motion = _HAVE_IT.sub("", found.group("p") or found.group("p2") or found.group("p3") or found.group("p4"))
        return _GEN_TAIL.sub("", motion).strip(" ,:;") or None
    found = _MAKE_MOVE.match(text) or _ZH_MOVE.match(text)
    if found is not None and not _MEDIUM_ITSELF.match(found.group("t")):
        joiner = "" if re.search(r"[\u3400-\u9fff]", found.group("t")) else " "
        thing = _NAMED_STILL.sub(r"\g<p> the \g<w>", found.group("t"))  # "the water in my waterfall photo": in the waterfall
        return f"{thing}{joiner}{_GEN_TAIL.sub('', found.group('v'))}".strip() or None
    return None


_STYLE_LEAD = re.compile(rf"^(?:(?:(?:this|the|my|that|whole|entire)\s+)*(?:{_MEDIUM_WORDS}s?|thing|lot)|the result|it|this|that|them|"
                         r"everything|all of it|all of this)"
                         r"\s+(?:(?:look|feel)\s+)?(?:(?:into|to|as|like|in)\s+)?(?:(?:the\s+)?style\s+of\s+|look\s+like\s+)?",
                         re.I)


_STYLE_EDGES = re.compile(r"^(?:to|into|as|like|in)\s+|\s+(?:style|look|vibe|feel|effect|filter)$", re.I)


def style_phrase(style: str) -> str:
    """A style span without the medium it was read with ("clip into an anime" -> "an anime") and without
    the words around a style ("to pencil sketch style" -> "pencil sketch")."""
    text = _STYLE_LEAD.sub("", style.strip()).strip()
    return _STYLE_EDGES.sub("", _STYLE_EDGES.sub("", text)).strip() or style


OTHER = 99
"""``medium_ordinal``'s index for "the other image": the attached medium the last request did not act on."""
_ORDINALS = {"other": OTHER, "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "last": -1,
             "one": 0, "two": 1, "three": 2, "四": 3, "一": 0, "二": 1, "两": 1, "三": 2, "最后": -1}
_ORDINAL_EN = re.compile(r"\s*\b(?:(?:in|on|of|from|to|for|with)\s+)?the\s+(?P<o>first|1st|second|2nd|third|3rd|fourth|4th|"
                         r"last|other)\s+(?:image|picture|photo|pic|video|clip|one)\b|\s*\b(?:in|on|of|from|to|for)\s+the\s+"
                         r"(?P<e>first|1st|second|2nd|third|3rd|fourth|4th|last|other)\s*(?=[.!?]*$)|\s*\b(?:in|on|of|from|to|for)?\s*"
                         r"(?:image|picture|photo)\s+(?:#|no\.?\s*)?(?P<n>[1-4])\b", re.I)
_ORDINAL_ZH = re.compile(r"(?:在|把|将)?第(?P<o>[一二三四1-4])(?:张|个|幅|段)(?:图片?|照片|视频|画)?(?:里|中|上)?的?|(?P<l>最后)一(?:张|个|段)"
                         r"(?:图片?|照片|视频)?(?:里|中|上)?的?|(?P<x>另)一(?:张|个|段|幅)(?:图片?|照片|视频|画)?(?:里|中|上)?的?")


def medium_ordinal(clause: str) -> tuple[int | None, str]:
    """Which attached medium a clause names by its place ("in the second image" -> 1, "the last photo"
    -> -1) and the clause without those words; (None, clause) when it names none."""
    found = _ORDINAL_EN.search(clause)
    if found:
        word = found.group("o") or found.group("e")
        index = _ORDINALS[word.lower()] if word else int(found.group("n")) - 1
        said = found.group().strip()
        # "turn the first image into a mosaic": the medium is the verb's object, so "this image" stands in for it
        stand_in = "" if re.match(r"(?:in|on|of|from|to|for|with)\b", said, re.I) or found.start() == 0 else (
            " this video " if re.search(r"\b(?:video|clip)\b", said, re.I) else " this image ")
        return index, " ".join((clause[:found.start()] + stand_in + clause[found.end():]).split()).lstrip(",: ")
    found = _ORDINAL_ZH.search(clause)
    if found:
        word = found.group("o") or found.group("l")
        index = OTHER if found.group("x") else int(word) - 1 if word.isdigit() else _ORDINALS[word]
        keep = "把" if found.group().startswith(("把", "将")) else ""
        return index, (clause[:found.start()] + keep + clause[found.end():].lstrip(" ，,：:")).strip()
    return None, clause


_REPEAT = re.compile(r"^(?:(?:now|ok(?:ay)?|and|then|please|also)\s+)*(?:(?:do|apply|repeat)\s+(?:the\s+)?"
                     r"(?:same|that|this|it)(?:\s+(?:thing|edit|change|again))?|(?:the\s+)?same\s+(?:thing|edit|again|for|to|on|here)|"
                     r"(?:now\s+)?the\s+same)\b(?:\s+(?:to|on|for|with)\b)?|^(?:(?:now|and|then|ok(?:ay)?)\s+)*(?:(?:for|to|on)\s+)?"
                     r"the\s+(?:other|second|first|last)\s+(?:one|image|photo|picture|pic|video|clip)\s+(?:too|as well|also)\b|"
                     r"^(?:对|把)?(?:第.(?:张|个|段).{0,4}?)?"
                     r"(?:也|同样)(?!.*(?:改成|变成|换成|转成|调成|弄成|做成)\S)(?:这样|一样)?(?:做|处理|来)?|^(?:同样|一样)", re.I)
"""The last action again on another medium; in Chinese 也 alone, not 也 with a change of its own ("第一张也改成黑白的" asks
for black and white, whatever the last edit was)."""


_WANTED_MADE = re.compile(r"^(?P<lead>.*?)\b(?:wants?|would (?:like|love)|needs?|asked (?:me )?for|is hoping for|loves?)\s+"
                          r"(?P<what>an?\s+(?:(?:short|quick|little|funny|cute|nice)\s+)*(?:video|clip|animation|picture|image|"
                          r"photo|drawing|painting|illustration|poster|cartoon)\s+(?:of|showing|with|where)\s+[^.!?]+?)\s*[.!]+\s+"
                          r"(?:(?:so\s+)?(?:can|could|would|will)\s+(?:you|u)\s+)?(?:please\s+)?(?:make|create|do|draw|generate|render|"
                          r"produce|paint)\s+(?:it|one|that|this)(?:\s+for\s+(?:me|her|him|them|us))?(?:\s+please)?\s*[?.!]*$", re.I)


_CAN_IT_MOVE = re.compile(rf"^(?:can|could)\s+(?P<m>(?:this|the|my|our|that)\s+{_STILLS})\s+(?=(?:come alive|come to life|move|"
                          rf"be animated)\b)", re.I)


def wanted_made(text: str) -> str:
    """A request that names what to make in the sentence before it ("My niece wants a video of a snowman skiing.
    Can you make it?") as one request ("make a video of a snowman skiing"), a picture asked whether it can move as asked
    to ("Can this photo come alive?" -> "Can you make this photo come alive?"); any other text as it is."""
    found = _WANTED_MADE.match(text.strip())
    if found:
        return f"make {found.group('what')}"
    return _CAN_IT_MOVE.sub(r"Can you make \g<m> ", text.strip(), count=1)  # "Can this photo come alive? Waterfall ..."


def asks_repeat(clause: str) -> bool:
    """ "do the same to the second image": repeat the last action on another medium."""
    return bool(_REPEAT.search(clause.strip()))



_AGAIN = re.compile(r"^(?:(?:ok(?:ay)?|nice|cool|great|good|lovely|now|and|so)[,.!\s]+)*(?:(?:do|make|generate|draw|render|create)\s+"
                    r"(?:it|that|this|one|another(?: one)?|the same(?: thing)?)\s+)?(?:(?:the\s+)?same\s+(?:thing\s+)?again|again|one more"
                    r"(?:\s+time)?|another(?:\s+one)?|the same(?:\s+thing)?)\s*[,:-]?\s+(?:but|only|just|this time|now)\s+"
                    r"(?:(?:this|that) time\s+|make it\s+)?(?P<c>\S.*?)\s*[.!]*$", re.I)


def another_with(clause: str, previous: str) -> str | None:
    """The prompt of "again but at night" after a generation of ``previous``: the earlier prompt with the change added
    ("a hot air balloon over vineyards" -> "a hot air balloon over vineyards at night"); None for other clauses."""
    found = _AGAIN.match(clause.strip())
    return f"{previous.rstrip(' .')} {found.group('c')}" if found else None

_SAME_IN = re.compile(r"^(?:(?:ok(?:ay)?|nice|cool|great|now|and|also|then|please|pls|can you|could you)[,.!\s]+)*"
                      r"(?:make|generate|create|draw|render|give me|do|produce)\s+(?:me\s+)?(?:an?\s+|one\s+)?"
                      r"(?:(?:still|static|single|short|quick)\s+)*(?P<m>image|picture|photo|pic|still|drawing|painting|video|clip|"
                      r"animation)\s+(?:version\s+)?of\s+(?:the\s+|that\s+)?same\s+[\w' -]+?"
                      r"(?:\s*,?\s+(?P<c>(?:in|as|but|with|at|during)\b.*?))?\s*[.!]*$", re.I)


def same_in_medium(clause: str, previous: str) -> tuple[str, str] | None:
    """ "also make still image of same koi pond, in ink wash style" after a generation of ``previous``: the task
    (an image or a video, as named) and the earlier prompt with the change added; None for other clauses."""
    found = _SAME_IN.match(clause.strip())
    if found is None:
        return None
    task = "generate_video" if found.group("m").lower() in ("video", "clip", "animation") else "generate_image"
    change = found.group("c")
    return task, f"{previous.rstrip(' .,')}, {change}" if change else previous


_SCENE = re.compile(r"^(?:(?:now|then|and|please|ok(?:ay)?)\s+)*(?:put|place|set|drop|paste|move|stick)\s+"
                    r"(?:it|them|that|this|him|her|the result|the cutout|the cut-out)\s+(?:in front of|on top of|on|in|onto|into|at|against)"
                    r"\s+(?P<s>.+?)\s*[.!?]*$", re.I)
_NOT_SCENE = re.compile(r"^(?:the\s+)?(?:left|right|top|bottom|middle|center|centre|corner|up|down)\b", re.I)


def background_scene(clause: str) -> str | None:
    """ "put it on a beach" after a cut-out: the new background ("a beach"); None for other clauses."""
    found = _SCENE.match(clause.strip())
    if found is None or _NOT_SCENE.match(found.group("s")):
        return None
    return found.group("s")


_SWAP_BACKGROUND = re.compile(
    r"^(?:(?:please|pls|now|then|and|also|ok(?:ay)?|can you|could you|would you|just)\s+)*(?:replace|swap|change|switch|"
    r"exchange)\s+(?:out\s+)?(?:the|its|their|this|my|his|her)\s+(?:background|backdrop|bg)\b(?:\s+(?:of|in|on)\s+(?:the|this|"
    r"my|that)\s+(?:[\w-]+\s+)?(?:image|picture|photo|pic|shot|video|clip|one))?\s+(?:with|for|to|into)\s+(?P<n>.+?)"
    r"(?:[\s,]+(?:please|pls|thanks|thank you|for me))*\s*[.!?]*$", re.I)
OWN_BACKGROUND = re.compile(r"\b(?:background|backdrop)\s+(?:of|in|on)\s+(?:the|this|my|that)\s+(?:[\w-]+\s+)?(?:image|picture|"
                            r"photo|pic|shot|video|clip|one)\b", re.I)
"""The background of a medium named ("the background of the second photo"): that medium's own, not the one behind a
thing cut out earlier."""


_MAKE_BACKGROUND = re.compile(
    r"^(?:(?:please|pls|now|then|and|also|ok(?:ay)?|can you|could you|would you|just)\s+)*(?:make|turn|set)\s+(?:the|its|their|"
    r"this|my|his|her)\s+(?:background|backdrop|bg)\s+(?:into\s+|to\s+)?(?P<n>(?:an?|some)\s+.+?)"
    r"(?:[\s,]+(?:please|pls|thanks|thank you|for me|instead))*\s*[.!?]*$", re.I)
"""The background named as the new scene ("make the background a snowy mountain range")."""


def background_swap(clause: str) -> str | None:
    """ "replace the background with a dramatic sunset", "make the background a snowy mountain range": what goes
    behind ("a dramatic sunset"), whatever the new background is like (a scene, a style, a mood); None for other
    clauses."""
    found = _SWAP_BACKGROUND.match(clause.strip()) or _MAKE_BACKGROUND.match(clause.strip())
    return found.group("n") if found else None


_ATTACHED = re.compile(r"\b(?:this|the|my|that|our|attached|uploaded)\s+(?:\w+\s+)?(?:image|picture|photo|pic|still|"
                       r"video|clip|footage|film|movie|shot|scene)\b|\bit\b|这(?:个|段|张)?(?:视频|图片?|照片)|视频里", re.I)


def refers_to_attached(clause: str) -> bool:
    """The clause speaks of a medium it was given ("this video", "the photo", "it")."""
    return bool(_ATTACHED.search(clause))


_SEPARATED_FROM = re.compile(r"\s+(?:from|off|out of)\s+(?:the|its|their|his|her|this|that|my)\s+(?!(?:left|right|top|bottom|"
                             r"front|back|end|start|middle)$)[\w-]+(?:\s+[\w-]+)?$", re.I)


def without_source(target: str) -> str:
    """A target to cut out without what it is cut from ("the mountain from the sky" -> "the mountain")."""
    return _SEPARATED_FROM.sub("", target).strip() or target


_OF_IT = re.compile(r"\s+(?:from|in|on|of|off|inside)\s+(?:it|that|this|them|the result|the new (?:image|picture|one))$",
                    re.I)


def without_it(target: str) -> str:
    """A target without the earlier output it lies in ("the wheels from it" -> "the wheels"); "in it" after a thing
    "with" another is where that other thing is ("the cocktail with the paper umbrella in it")."""
    if held_in_it(target):
        return target
    return _OF_IT.sub("", target).strip() or target


_NAMED_IN_BOX = re.compile(r"^(?:[a-z']+\s+){1,3}?(?P<t>(?:the|a|an|this|that|my)\s+.+?|(?!(?:what|whatever|everything|anything|"
                           r"something|stuff|things?|objects?|it|them|this|that)\b)(?:[a-z]{2,}s|people|men|women|children|sheep|fish|deer|geese|"
                           r"mice|cattle))\s+in the box\b", re.I)
_BOX_THING = re.compile(r"^(?:the|a|an|this|that|my|your)\s+(?:object|thing|region|area|stuff|item|selection|part|box|"
                        r"rectangle|contents?|spot|section|marked area|boxed area)$", re.I)


def names_the_box(phrase: str) -> bool:
    """True for the box's own words ("the object", "that region"): they name whatever the box holds, nothing more."""
    return bool(_BOX_THING.match(phrase.strip()))


def named_in_box(clause: str) -> str | None:
    """The object named before "in the box" ("track the person in the box" -> "the person"); None for the
    box's own words ("the object in the box")."""
    found = _NAMED_IN_BOX.match(clause.strip())
    if found is None or names_the_box(found.group("t")):
        return None
    return found.group("t")


_ADDED_TO = re.compile(r"\b(?:to|on|onto|into|in|inside|next to|beside|near|above|behind|under|over|around|on top of)\s+"
                       r"(?P<t>(?:the|this|that|my|his|her|its|their)\s+[\w' -]+?)\s*[.!?]*$", re.I)
_NOT_A_PLACE = re.compile(r"^(?:the|this|that|my)\s+(?:picture|image|photo|pic|background|foreground|scene|frame|video|"
                          r"clip|shot|box|region|area|selection|corner|left|right|top|bottom|middle|center|centre)$", re.I)


def added_to(clause: str) -> str | None:
    """Where an added thing goes ("add a rainbow in the sky" -> "the sky"); None for the picture itself."""
    found = _ADDED_TO.search(clause.strip())
    if found is None or _NOT_A_PLACE.match(found.group("t")):
        return None
    return found.group("t")


_ADDED_THING = re.compile(r"\b(?:add|adds|adding|put|place|insert|drop|stick|paste|include|draw|paint)\s+(?:in\s+)?"
                          r"(?P<n>(?:an?|some|two|three|four|five|a few|a couple of|several|one|another|more)\s+[^,;.!?]+?)"
                          r"(?:\s+(?:to|on|onto|into|in|inside|within|next to|beside|near|above|below|behind|under|over|"
                          r"around|at|between|on top of)\s+[^,;.!?]*)?"
                          r"(?:[\s,]+(?:please|pls|too|as well))*\s*[.!?]*$", re.I)


def added_thing(clause: str) -> str | None:
    """The thing an addition adds, whole and without its place ("add a flying crane in the sky" -> "a flying
    crane", "put some pigeons on the rails" -> "some pigeons"); None when no adding verb names one."""
    text = clause.strip()
    place = _ADDED_TO.search(text)
    if place is not None and not _NOT_A_PLACE.match(place.group("t")):
        text = text[:place.start()]
    found = _ADDED_THING.search(text)
    return found.group("n") if found else None


_RESTYLE_ATTACHED = re.compile(
    r"^(?:(?:please|pls|now|then|and|also|first|can you|could you|would you|i want you to|i'd like you to|let's)\s+)*"
    r"(?:make|turn|convert|render|restyle|stylize|stylise|change|transform|redo|redraw|repaint|give)\s+"
    r"(?:(?:this|the|my|that|our)\s+(?:whole\s+|entire\s+)?(?:video|clip|footage|film|movie|image|picture|photo|pic)"
    r"(?:\s+of\s+(?:my|our|the|his|her|their)\s+[\w' -]+?(?=\s+(?:(?:look|feel)\s|an?\s)))?|it)\s+"  # "this photo of my bike"
    r"(?:(?:look|feel)\s+)?(?:(?:like|into|to|as|in)\s+)?(?:(?:the\s+)?style\s+of\s+)?(?P<s>.+?)"
    r"(?:\s+(?:style|look|vibe|feel|effect|filter))?\s*[.!?]*$", re.I)
_RESTYLE_VERB = re.compile(
    r"^(?:(?:please|pls|now|then|and|also|can you|could you|would you)\s+)*(?:restyle|re-style|stylize|stylise|redo|redraw|"
    r"repaint|re-render)\s+(?:(?:it|this|that|them|the result|(?:this|the|my) (?:image|picture|photo|pic|video|clip|footage|"
    r"result|one))\s+)?(?:as|into|like|in|to)\s+(?:(?:the\s+)?style\s+of\s+)?(?P<s>.+?)(?:\s+style)?(?:[\s,]+(?:please|pls|thanks|thank you))*\s*[.!?]*$", re.I)


_NAMED = "|".join(sorted(NAMED_COLORS, key=len, reverse=True))
_SHADES = (r"(?:golden|gilded|silvery|bronze|copper|coppery|rose gold|ivory|cream|crimson|scarlet|maroon|burgundy|"
           r"turquoise|lavender|lilac|mint|olive|khaki|tan|amber|magenta|cyan|emerald|indigo|violet|ochre|charcoal)")
_TONE = (r"(?:(?:light|dark|bright|pale|deep|matte?|glossy|gloss|shiny|metallic|satin|pearl|pearly|pearlescent|neon|pastel|"
         r"muted|vivid|dusty|soft|hot|navy|sky|royal|baby|forest|lime|candy|electric|jet|mustard|lemon|cherry|blood|wine|sea|ocean|"
         r"mint|sage|moss|pine|rust|sand|slate|steel|ice|salmon|coral|brick|fire|apple|bottle|midnight|powder|rose|cobalt)\s+)?")
"""A finish, tone or likeness in front of a colour, which belongs to the colour ("paint it matte black", "make the mug
glossy red", "mustard yellow", "sage green")."""
_HUE = rf"(?:{_TONE}(?:(?:{_SHADES})\s+(?={_NAMED}))?(?:{_SHADES}|{_NAMED}))"
"""A colour with what may come before it: a finish or tone, or a shade that names the hue ("emerald green")."""
_COLOUR_SHADE = re.compile(rf"^(?:(?:ok(?:ay)?|great|nice|cool|good|perfect|lovely|awesome)[,.!\s]+)*"
                           rf"(?:(?:please|now|then|and|also|can you|could you)\s+)*(?:make|turn|paint|colou?r|recolou?r|dye|tint)\s+"
                           rf"(?:(?P<t>(?:the|this|that|my|his|her|its|their)\s+[\w' -]+?)\s+(?:(?:in)?to\s+|in\s+)?(?:an?\s+)?"
                           rf"(?P<c>{_HUE})|(?P<t2>it|them|that)\s+(?:(?:in)?to\s+|in\s+)?(?:an?\s+)?"
                           rf"(?P<c2>{_HUE}))(?:\s+colou?r(?:ed)?)?"
                           rf"(?:,?\s+(?:just\s+)?like\s+(?:a|an|the|in\s+a|at)\s+[\w' -]+?)?\s*[.!?]*$",  # "orange like a sunset"
                           re.I)
_NOT_PLAIN_COLOUR = re.compile(r"\s(?:more|less|very|really|so|too|navy|sky|royal|baby|lime|olive|forest|hot|neon|pastel|"
                               r"a bit|slightly|kind of)$|\b(?:thing|object|stuff|region|area|box|selection|part)\b", re.I)
"""Words before a named colour that make it more than a plain recolour of a named object."""


_RECOLOUR_TO = re.compile(r"^(?:(?:please|now|then|and|also|can you|could you)\s+)*(?:recolou?r|dye)\s+(?P<t>(?:the|this|that|my|his|"
                         r"her|its|their)\s+[\w' -]+?)\s+(?:to|in|into)\s+(?:an?\s+)?(?P<c>[\w-]+(?:\s+[\w-]+)?)"
                         r"(?:\s+colou?r(?:ed)?)?\s*[.!?]*$", re.I)
"""A verb that only ever recolours, with any colour name after it ("recolor the dress to champagne")."""


def colour_request(clause: str) -> tuple[str, str] | None:
    """(object, colour) of "make the pear golden" (a shade outside the model's colours), "make the door green",
    "make it teal" (the model reads even some of its own colours as other tasks, an animation of the door) or
    "recolor the dress to champagne"; None otherwise."""
    named = _RECOLOUR_TO.match(clause.strip())
    if named and not re.search(r"WRITTENBOX|\b(?:thing|object|stuff|region|area|box|selection|part)\b", named.group("t")):
        return named.group("t"), named.group("c")
    found = _COLOUR_SHADE.match(clause.strip())
    if found and found.group("t2"):
        return found.group("t2"), found.group("c2")
    if found is None or re.search(r"\s(?:and|or|&)$", found.group("t")):
        return None  # "turn the photo black and white" is a style, not a colour of "the photo black"
    named = found.group("c").split()[-1].lower() in NAMED_COLORS  # "matte black": black, with its finish
    if named and _NOT_PLAIN_COLOUR.search(found.group("t")):
        return None  # "make the grass more green", "the thing in the box": the model reads them
    return found.group("t"), found.group("c")


_INTO_STYLE = re.compile(
    r"^(?:(?:please|pls|now|then|and|also|first|can you|could you|would you|i want you to|i'd like you to)[\s,]+)*"
    r"(?:turn|convert|transform|change|make)\s+(?:this|the|my|that|our|his|her|their)\s+(?:[\w'-]+\s+){0,3}?"
    r"(?P<m>video|clip|footage|film|movie|image|picture|photo|pic|shot|selfie|drawing|painting|sketch|doodle)\s+into\s+"
    r"(?P<s>.+?)(?:[\s,]+(?:please|pls|thanks|for me))*\s*[.!?]*$|"
    r"^(?:(?:please|pls|now|then|and|also|finally|can you|could you)[\s,]+)*(?:turn|convert|transform|make)\s+"
    r"(?:that|it|this|the result|the output|the edit|the last one)\s+into\s+(?P<s2>(?:an?\s+)?(?:[\w'-]+\s+){0,3}?"
    r"(?:print|poster|painting|sketch|drawing|illustration|watercolou?r|cartoon|comic|mosaic|engraving|etching|linocut|"
    r"lithograph|postcard|pastel|artwork|oil painting))(?:[\s,]+(?:please|pls|thanks|for me))*\s*[.!?]*$", re.I)
"""A medium named with words before it, then "into" a style; or "turn that/the result into a woodblock print" (an
earlier output, then a style named by an art form, never "into a cat")."""
_MEDIUM_LAST = re.compile(r"\s+(?:scene|image|picture|photo|pic|shot|version)\s*$", re.I)


def restyle_request(clause: str) -> str | None:
    """The style in "restyle it as a 1980s polaroid" (a verb that only ever restyles), or in "turn this snowy street
    photo into an anime scene" / "turn the drawing into a realistic photo" (a medium named with words before it, then
    "into" a style; a medium word that ends the style is no part of it); None otherwise."""
    clause = _MEDIUM_OF.sub(r"\g<m>", clause.strip())  # "restyle this photo of the science fair as ...": the photo
    found = _RESTYLE_VERB.match(clause) or _INTO_STYLE.match(clause)
    if found is not None and found.re is _INTO_STYLE and found.group("s2"):
        return found.group("s2")  # "turn that into a woodblock print"
    if found is None or _STYLE_NOT.match(found.group("s")):
        return None
    if found.re is _INTO_STYLE and (_AND_THEN.search(found.group("s")) or _MADE_MOVING.search(found.group("s")) or (
            re.search(r"animation$", found.group("s"), re.I) and not _VIDEO_WORDS.match(found.group("m")))):
        return None  # "turn this image into a short video", "... a watercolor animation" of a still: it moves
    return _MEDIUM_LAST.sub("", found.group("s")) if found.re is _INTO_STYLE else found.group("s")


_MEDIUM_OF = re.compile(r"\b(?P<m>(?:this|the|my)\s+(?:image|picture|photo|pic|video|clip|footage))\s+of\s+(?:the|my|our|a|an)\s+"
                        r"[\w' -]+?(?=\s+(?:as|into|like)\s)", re.I)
_AND_THEN = re.compile(r"\b(?:and|then|with|where|so)\b|,", re.I)
_MADE_MOVING = re.compile(r"\b(?:video|clip|movie|gif|film|footage|cinemagraph)s?$", re.I)


_STYLE_NOT = re.compile(r"^(?:a|an)?\s*(?:video|clip|movie|film|animation|gif)\b", re.I)


def restyle_of_attached(clause: str) -> str | None:
    """The style in "make this video black and white" (a restyle of the attached medium, never a new
    video); None for other clauses."""
    found = _RESTYLE_ATTACHED.match(clause.strip())
    if found is None or _STYLE_NOT.match(found.group("s")):
        return None
    return found.group("s")
