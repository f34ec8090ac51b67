"""The words around a request that ask for nothing: who it is for, why, how soon, and whether it is any trouble.

People in a hurry write their request inside its story: "I'm making a poster for my bakery and could really use
a picture of ...", "ok so the photo is nice but the sky is boring, replace the background ...", "where is the
fire extinguisher? need to mark it for the safety report by tonight", "... pls, my glasses are upstairs",
"..., if thats doable". The templates never wrap a request like that, and the tagger reads the story as part of
the object or prompt. ``without_chatter`` takes such sentences and phrases off before the request is split into
its actions; a sentence that asks for something (a command verb, a mask, a question) is never taken off.
"""

from __future__ import annotations

import re

from .phrasing import motion_follows

__all__ = ["is_filler", "without_chatter"]

_ACTION = re.compile(
    r"\b(?:segment|mask|cut|outline|isolate|extract|select|find|detect|locate|spot|highlight|box|track|follow|remove|"
    r"delete|erase|replace|swap|change|turn|recolou?r|colou?r|paint|restyle|stylize|stylise|move|shift|add|insert|put|"
    r"place|animate|generate|create|draw|render|describe|caption|where|what|which|how|who|why|segmented|masked|removed|"
    r"isolated|extracted|tracked|outlined)\b", re.I)
"""A sentence with one of these words asks for something, so it stays."""
_STORY = (
    r"(?:my|our)\s+(?:[\w']+\s+){1,3}?(?:swears?|says?|said|thinks?|thought|is|are|was|were|wants?|wanted|asked|needs?|"
    r"loves?|likes?|hates?|keeps?)\b"
    r"|(?:i'm|im|i am|we're|we are|i've|ive|i have|i was|i'll|ill|i will|i can't|i cant|i can not|i don't|i dont)\b"
    r"|(?:(?:i|we)\s+)?(?:need|have|want|got)\s+to\b"
    r"|(?:(?:i|we)\s+)?need\s+(?:it|this|that|them)\s+(?:for|by|before|asap|done|today|tonight|tomorrow)\b"
    r"|(?:i|we)\s+need\s+[\w' -]+?\s+for\s+(?:our|my|a|an|the|his|her|their)\b"
    r"|(?:it's|its|it is|this is|that's|thats|that is|they're|theyre)\s+(?:for|going|gonna|meant|supposed|due)\b"
    r"|(?:bc|b/c|because|cause|cuz|since|so that|so i can|so we can)\b"
    r"|(?:took|shot|snapped|found|got)\s+(?:it|this|them|these|both|the|a|an|my|some)\b"
    r"|(?:no rush|no hurry|whenever)\b"
    r"|(?:it's|its|it is|this is|that's|thats|that is|they're|theyre|he's|hes|she's|shes)\s+(?:my|our)\s+[\w']+"
    r"|(?:it|this|that|he|she|they)\s+belongs?\s+to\b"
    r"|(?:this|it|that|they|these)\s+(?:was|were)\s+(?:taken|shot|snapped|filmed|photographed|recorded)\b"

    r"|(?:i|we)\s+(?:keep|kept|forgot|forget|always|never|was wondering|were wondering)\b"
    r"|(?:thinking|planning|hoping)\s+(?:of|to|about)\b"
    r"|(?:it's|its|it is|this is|that's|thats|they're|theyre|these are)\s+(?:from|of|at)\s+(?:my|our|a|an|the|last|this)\b"
    r"|(?:he's|hes|she's|shes|it's|its)\s+the\s+only\b"
    r"|(?:this|that|it|the)\s+(?:[\w-]+\s+)?(?:is|was|looks|feels)\s+(?:so|really|too|very|kinda|kind of|pretty|super)\s+[\w-]+\s*$"
)
_ALWAYS_STORY = re.compile(
    r"^(?:(?:and|also|oh|btw|ok(?:ay)?|so)[,\s]+)*(?:(?:thanks|thank you|thx|ty|cheers|lol|haha|hehe|appreciate it)\b"
    r"|(?:the\s+)?(?:edges?|details?|quality|accuracy|precision|outline|borders?)\s+(?:really\s+|do\s+|does\s+)?"
    r"(?:matters?|counts?|is important|are important)\b"
    r"|just the (?:mask|cutout|cut-out|outline|selection)(?:\s+(?:for now|please|pls|thanks))*\s*$"
    r"|(?:nothing else|that's all|thats all|that's it|thats it)\s*$"
    r"|(?:please\s+)?be\s+(?:careful|gentle|precise)\b"
    r"|(?:just|only)\s+(?:the|that|this|my)\s+[\w'-]+(?:\s+[\w'-]+)?\s*$"
    r"|(?:my|our)\s+(?:[\w']+\s+){1,2}?(?:will|would|might|gonna|are going to|is going to)\s+(?:love|like|find|enjoy|laugh|get|be)\b"
    r"|(?:(?:can|could|would|will)\s+you\s+)?(?:please\s+)?(?:make|draw|create|generate|render|do)\s+(?:me\s+)?(?:one|that one|"
    r"something like that|that|this|it)(?:\s+(?:for me|please|pls))*\s*$)", re.I)
"""Sentences that are story whatever words they hold ("the outline really matters", "just the mask for now": the
action already says what to hand back; "Can you make one?" after the picture wished for asks for it again)."""
_STORY_SENTENCE = re.compile(rf"^(?:(?:and|also|oh|btw|ok(?:ay)?|so)[,\s]+)*(?:{_STORY})", re.I)
_TAIL = re.compile(r"(?P<sep>[?!.]+\s+|[,;]\s*|\s+-+\s+|\s+(?=(?:bc|b/c|because|cuz)\b))(?P<s>[^?!.,;]*?)\s*[.!?]*\s*$", re.I)
"""The last sentence or comma phrase of a request (and what ends it)."""
_HEDGE = re.compile(
    r"[,\s]+(?:if\s+(?:that's|thats|that is|it's|its|it is|this is)\s+(?:possible|doable|ok(?:ay)?|alright|not too much "
    r"(?:trouble|to ask)|feasible)|if\s+(?:you\s+)?(?:can|could)|if\s+possible|if\s+you\s+don'?t\s+mind|when(?:ever)?\s+you\s+"
    r"(?:can|get a chance)|by\s+(?:tonight|tomorrow|today|later)|lol|lmao|rofl|xd|(?:ha){2,}h?|(?:he){2,}h?)"
    r"(?=\s*(?:[,.!?]|$))", re.I)
_LEAD = re.compile(
    r"^(?:(?:ok(?:ay)?|so|well|hey|hi|hmm|um|alright)[,\s]+)*(?:i'm|im|i am|we're|we are|i've been|ive been|i was|we were)\s+"
    r"[^.;?!]+?(?:,\s*|\s+and\s+|\s+so\s+)(?=(?:(?:i|we)\s+)?(?:could|can|would|will|really|please|pls|need|want)\b)", re.I)
_PURPOSE = re.compile(
    r",?\s+(?:that|which)\s+(?:i|we)\s*(?:can|could|will|'ll|ll|would|might|want to|plan to|am going to|'m going to|"
    r"am gonna|'m gonna)\s+(?:use|post|put|share|print|send|show)\b[^.?!,;]*(?=\s*(?:[,.!?]|$))"
    r"|,?\s+so\s+(?:that\s+)?(?:i|we)\s+(?:can|could)\s+(?:use|post|put|share|print|send|show|turn|make|have|stick)\s+"
    r"(?:it|him|her|them|this|that)\b[^.?!,;]*(?=\s*(?:[.!?]|$))"  # "lift the hiker out so I can use him as a sticker"
    r"|[,;]\s*(?:i|we)\s+need\s+(?:an?|some|the)\s+[\w' -]+?\s+for\s+(?:our|my|his|her|their|a|an|the)\s+[\w' -]+"
    r"(?=\s*(?:[.!]|$))", re.I)  # "Describe this photo ..., I need a caption for our wedding album."
"""What the user will do with the answer, inside the request ("a description of this scene that I can use as alt
text")."""
"""The user's situation before the request ("I'm making a poster for my bakery and could really use ...")."""
_OPINION = re.compile(
    r"^(?:(?:ok(?:ay)?|so|well|hmm|um|alright)[,\s]+)*(?:(?:the|this|my|that)\s+[\w' -]+?\s+(?:is|looks|seems|was|are)\s+"
    r"(?:so\s+|really\s+|kinda\s+|a bit\s+|too\s+|pretty\s+|very\s+|super\s+)?(?:nice|fine|good|great|ok(?:ay)?|cool|boring|"
    r"dull|bland|plain|bad|ugly|meh|lovely|perfect|cute|gorgeous|beautiful|alright)\b(?:\s+but\b)?[^.;?!,]*)+,\s*"
    r"(?=(?:please\s+|pls\s+|can you\s+|could you\s+)?(?:[a-z]+)\b)", re.I)
"""An opinion of the picture before the request ("ok so the photo is nice but the sky is boring, replace ...")."""


_GOAL = re.compile(
    r"^(?:(?:ok(?:ay)?|so|well|hmm|um|alright)[,\s]+)*(?:(?:i|we)\s+(?:want|need|would like)|i'd like|i wanna)\s+[^.;?!,]+?\s+to\s+"
    r"(?:stand out|pop|look|be|feel|seem|get|appear|catch|draw|grab)\b[^.;?!,]*?(?:,\s*(?:so\s+|then\s+)?|\s+so\s+)"
    r"|^to\s+make\s+[^.;?!,]+?\s+(?:stand out|pop|look|be|feel|seem)\b[^.;?!,]*?,\s*", re.I)
"""The effect the user is after, said before the action that gets it ("I want the bird to stand out, so replace the
background ...", "to make the car pop, blur the background"): the action alone is planned."""


_PAST = r"(?!(?:need|feed|bleed|breed|proceed|exceed|succeed)\b)[a-z]+ed"
"""A past-tense verb ("filmed"); "need" and its kind end in -ed but are not one."""
_SCENE = re.compile(
    r"^(?:(?:ok(?:ay)?|so|well|hey|hi|hmm|um|alright)[,\s]+)*(?P<s>(?:my|our)\s+[\w'-]+\b[^.!?]*?|(?:i|we)\s+(?:have|had)\s+"
    rf"no\s+idea\b[^.!?]*?|(?:i|we)\s+(?:just\s+|finally\s+|recently\s+)?(?:{_PAST}|took|shot|made|found|bought|went|got|saw|"
    r"caught|drew|spent|lost|left|met|sent|ran|wrote|built|dug|grew|won)\s+[^.!?]*?|(?:this|here|it)(?:'s|\s+is|\s+are|\s+was)\s+"
    r"(?:my|our|a|an|the|from|taken|shot|filmed|two|three|some|a few|both)\s+[^.!?]*?|(?:i'm|im|i am|we're|"
    r"we are)\s+[^.!?]*?|(?:got|found|bought|took|shot|snapped|picked up)\s+(?:this|these|it|them)\s+[^.!?]*?|"
    r"(?:the\s+)?(?:first|second|1st|2nd|top|bottom|left|right)\s+(?:one|image|photo|picture|pic)\s+(?:is|was|shows)\s+[^.!?]*?|"
    r"(?:two|three|four|a couple of|a few|some|\d)\s+(?:shots|photos|pictures|pics|images|clips|videos)\s+"
    rf"(?:from|of|at)\s+[^.!?]*?|somewhere\s+in\s+[^.!?]*?|just\s+(?:{_PAST}|got|took|came|shot|made|found|bought)\s+[^.!?]*?)"
    r"[.!]+\s+(?=\S)", re.I)
"""A first sentence that only sets the scene ("My grandma sent me this photo of her garden and I have no idea what
those flowers are.", "My niece runs all over the place in this video.", "We filmed our first dance in a boring hall.",
"Here's my desk at work.", "This is my phone video of the match.", "This is from my phone at the beach.",
"I lost my sister in the crowd.", "Hi, I'm making a sticker out of my cat."), before the
question or request."""
_FOR_WHAT = re.compile(r"^for\s+(?:a|an|my|our|the|this|his|her|their)\s+(?!(?:[\w-]+\s+)?(?:image|picture|photo|pic|video|"
                       r"clip|one|frame|shot)s?\s*[,:])[^.;?!,:]+?[,:]\s*(?=[a-z]+\b)", re.I)
"""What the result is for, before the request ("For a blog post I'm writing about slow mornings, create ...", "For my
science fair board: replace ..."); not a
medium ("For the second image, ...")."""
_LIST_LEAD = re.compile(r"^(?:(?:i have|i've got|got|here are)\s+)?(?:a\s+)?(?:few|couple(?:\s+of)?|two|three|four|five|\d)\s+"
                        r"(?:quick\s+|small\s+|little\s+)?(?:things|requests|edits|changes|steps|tasks|jobs)\b[^.:;!?]{0,60}:\s*(?=\S)", re.I)
_TOLD_FIRST = re.compile(r"^(?P<s>[^,.!?;]+),\s+(?=\S)")
"""A first comma phrase, which may only tell a story ("found this at the junkyard, ...")."""
_THERE_IS = re.compile(r"^(?P<s>there(?:'s|\s+is|\s+are|\s+was|\s+were)\s+(?:a|an|some|two|three|a few|this|that)\s+"
                       r"(?P<w>[\w-]+)(?:\s+(?P<w2>[\w-]+))?[^.!?]*?)[.!]+\s+(?=\S)", re.I)
_ASKS_ABOUT_IT = re.compile(r"^(?:(?:can|could|would)\s+(?:you|u)\s+(?:please\s+)?(?:read|tell|translate|explain|describe)|"
                            r"(?:what|which|who|why|how|when)\b|(?:is|are|does|do)\s+(?:it|they|that|this)\b)", re.I)
"""A question after a sentence that only says a thing is there: the thing is what the question is about, not a
find."""
_ASKING = re.compile(rf"(?:(?:please|pls|can you|could you|would you|just)\s+)*(?:{_ACTION.pattern}|make|give|show|sketch|"
                     r"get rid of|take (?:out|away)|clean up)\b", re.I)
"""What starts a request ("create ...", "can you make ...")."""
_VERB = re.compile(r"(?<!\bthe\s)(?<!\ba\s)(?<!\ban\s)(?<!\bmy\s)"
                   + _ACTION.pattern.replace("describe|caption|where|what|which|how|who|why|", "describe|caption|"), re.I)
"""An action's verb (``_ACTION`` without the question words, which a scene may hold: "no idea what they are"; not
after a determiner: "all over the place")."""


_LOOK_AT = re.compile(r"^(?:(?:ok(?:ay)?|so|now|hey|and)[,\s]+)*(?:please\s+)?(?:look at|check out|take a look at|focus on|see)\s+"
                      r"(?P<m>the\s+(?:first|1st|second|2nd|third|3rd|last|other)\s+(?:one|image|photo|picture|pic|video|clip))"
                      r"\s*[.:!;,]+\s+(?=\S)", re.I)
"""A first sentence that only points at one of the media ("Look at the second photo. Any guess which city that skyline
is?"): the request after it is on that medium, as "In the second photo, ..." says it."""
_HAPPENED_TO_MINE = re.compile(r"^(?P<s>[^.!?]*\b(?:my|our)\s+(?:[\w'-]+\s+){0,2}(?:photo|picture|pic|video|clip|shot|footage|"
                               r"selfie|snap)s?\b[^.!?]*)[.!]+\s+(?=\S)", re.I)
"""A first sentence that tells what happened to the user's picture ("A seagull photobombed my harbour video."): the story
before the request."""
_EXCLAIMED = re.compile(r"^(?P<s>[a-z][\w' -]{2,60}?)\s*!+\s+(?=(?:what|which|who|where|how|is|are|can|could|do|does)\b)", re.I)
"""A first phrase with no verb, exclaimed, before a question ("rooftop view from my new apartment!! what's that tall
tower ...?"): it only sets the scene."""


_REFERS_BACK = re.compile(r"\b(?:where(?:'s|\s+is|\s+are)\s+(?:it|he|she|they)|(?:find|track|follow|spot|locate)\s+(?:it|them|"
                          r"him|her))\b", re.I)
"""A request whose thing is only named in the scene before it ("I lost my sunglasses on this blanket. Can you find
them?"): the scene stays, as it says what "them" is."""


_REACTION = re.compile(r"^(?:(?:oh|wow|ok(?:ay)?|aw+|ha(?:ha)+)[,\s]+)*(?:(?:i\s+)?love\s+(?:it|this|that)|perfect|nice(?:\s+one)?|"
                       r"great|awesome|amazing|beautiful|gorgeous|cool|sweet|wonderful|brilliant|excellent|lovely|so cute|"
                       r"(?:that|this|it)\s+(?:looks?|is)\s+(?:great|amazing|awesome|perfect|nice|good|lovely))"
                       r"(?:\s+(?:thanks|thank you))?\s*[!.]+\s+(?=\S)", re.I)
"""A first exclamation about the last result ("love it! now make it move: ...", "Perfect. Now ..."): no part of the
request after it."""


_FILLER = re.compile(r"^(?:(?:please|pls|plz|(?:thanks|thank you|thx|ty)(?:\s+(?:a lot|so much|very much|again))?|cute|great|nice|cool|ok(?:ay)?|k|actually|wow|awesome|"
                     r"perfect|lovely|amazing|good|hmm+|hm+|so|well|oh|yes|yeah|yep|sure|alright|all right|right|ha(?:ha)+|lol|"
                     r"love it|beautiful|sweet|excellent|brilliant|gorgeous|wonderful|nice one|great job|good job|"
                     r"好的|好|谢谢|谢谢你|多谢|不错|太棒了|很好|哇|嗯|可爱|行|可以)[\s,.!?，。！？~]*)+$", re.I)
"""A clause of nothing but thanks, praise or a filler word ("cute.", "Please,", "great, and ..."): it asks for nothing."""


def is_filler(clause: str) -> bool:
    """Whether ``clause`` is only politeness, praise or filler words, which no expert is called for."""
    return bool(_FILLER.match(clause.strip()))


_CHEER = re.compile(r"^(?P<s>[^.!?]+)!+\s+(?=\S)|^(?P<c>(?:[\w'-]+\s+){0,3}[\w'-]+)\s*\.+\s+(?=\S)")
"""A first sentence that ends with "!" ("Graduation day at last! ..."), or a caption of a few words ("Grocery run pic."):
no part of the request when it names no action (nor motion: "Bring this image to life! Clouds drifting ..." is the
request)."""


_GREETING = re.compile(r"^(?:good\s+(?:morning|afternoon|evening|day)|hi|hello|hey|hiya|greetings)(?:\s+there)?\s*[!.,]+\s+(?=\S)",
                       re.I)
"""A greeting written as its own sentence ("Good afternoon.", "Hi!"): no part of the request."""


_WISH = re.compile(r"^(?:(?:i|we)\s+(?:really\s+)?(?:want|need|would like|'d like)|i'd like|i'd love|we'd like)\s+(?:an?|some|the)\s+"
                   r"(?P<n>[\w'-]+(?:\s+[\w'-]+){0,3}?)(?:\s+(?:on|in|at|by|over|under|above|near|next to|instead of)\s+[^.!?]*)?"
                   r"[.!]+\s+(?=\S)", re.I)
"""A first sentence that wishes for a thing the request after it then puts in ("I want a framed poster on the wall.
Replace the area ... with a framed poster."): the request says it all."""


def _wished_first(text: str) -> int:
    """Where the request starts after a wish for the thing it names (``_WISH``); 0 when there is none."""
    wish = _WISH.match(text)
    if wish is None or not _ASKING.match(text[wish.end():]):
        return 0
    head = wish.group("n").split()[-1]
    return wish.end() if re.search(rf"\b{re.escape(head)}s?\b", text[wish.end():], re.I) else 0


def _named_again(there: re.Match, rest: str) -> bool:
    """True when the request after "There's a smudge from my lens near the top." (``_THERE_IS``) names the thing again
    ("erase the smudge ..."): the sentence only introduced it."""
    words = [w for w in (there.group("w"), there.group("w2")) if w]
    return any(re.search(rf"\b(?:the|that|this|those|these)\s+(?:[\w-]+\s+)?{re.escape(w)}s?\b", rest, re.I) for w in words)


def _scene_end(text: str) -> int:
    """Where the request starts after a first sentence or phrase that only sets the scene or says what it is for
    (after a greeting, up to two such sentences: "Good afternoon. I photographed an exhibit. Could you ...")."""
    reaction = _REACTION.match(text)
    if reaction:
        return reaction.end()
    wished = _wished_first(text)
    if wished:
        return wished
    greeted = _GREETING.match(text)
    start = greeted.end() if greeted else 0
    for _ in range(2):
        scene = _SCENE.match(text[start:])
        if scene is None or _VERB.search(scene.group("s")) or _REFERS_BACK.search(text[start + scene.end():]):
            break
        start += scene.end()
    if greeted is None and start or greeted is not None and start > greeted.end():
        return start
    rest = text[start:]
    exclaimed = _EXCLAIMED.match(rest)
    if exclaimed and not _VERB.search(exclaimed.group("s")) and not _ACTION.search(exclaimed.group("s")):
        return start + exclaimed.end()
    told = _HAPPENED_TO_MINE.match(rest)
    if told and not _ACTION.search(told.group("s")) and _ACTION.search(rest[told.end():]):
        return start + told.end()  # "A seagull photobombed my harbour video. Remove the seagull?"
    cheer = _CHEER.match(rest)
    said = cheer.group("s") or cheer.group("c") if cheer else ""
    if (cheer and not _VERB.search(said) and not _MOTION.search(said) and "WRITTENBOX" not in said
            and _ACTION.match(rest[cheer.end():])):  # a box written as its own sentence is the question's region
        return start + cheer.end()  # "Graduation day at last! Cut out my cap ...": the exclamation asks for nothing
    purpose = _FOR_WHAT.match(rest)
    if purpose and _ASKING.match(rest[purpose.end():]) and not _VERB.search(rest[:purpose.end()]):
        return start + purpose.end()
    listed = _LIST_LEAD.match(rest)
    if listed:  # "Three things for this waiting room shot: remove ...": the list is the request
        return start + listed.end()
    there = _THERE_IS.match(rest)
    after_there = rest[there.end():] if there else ""
    if there and not _VERB.search(there.group("s")) and (_ASKS_ABOUT_IT.match(after_there) or _named_again(
            there, after_there) or (_ASKING.match(after_there) and not re.search(_BACK_TO, after_there, re.I))):
        return start + there.end()  # "There's a sign zip-tied to the railing. Can you read me what it says?"
    told = _TOLD_FIRST.match(rest)
    after = rest[told.end():] if told else ""
    if told and _story(told.group("s")) and (_ASKS_ABOUT_IT.match(after) or _ASKING.match(after)):
        return start + told.end()  # "found this at the junkyard, what is the thing I put a box around?"
    return start


_WITH_IT = re.compile(r"^(?:(?:i|we)\s+(?:want|wanna|need|plan|'m going|am going|'m gonna|am gonna)(?:\s+to)?|i'd like to|"
                      r"so\s+(?:that\s+)?(?:i|we)\s+can|to)\s+[a-z]+\s+(?:(?:it|him|her|them)\b|(?:it|him|her|them)\s+"
                      r"(?:into|as|on|for)\b|(?:an?|the|some|my|our)\s+(?:[\w'-]+\s+){0,3}?(?:for|of|about|under|next to|with)\s+"
                      r"(?:it|him|her|them|this|that)\b)", re.I)
"""What the user will do with the result, after the request ("Cut out my dog, I want to turn him into a sticker", "...
I'd like to write a short caption for it on the fridge."): an action on "him" or "it", which is the result itself."""


_DOES = re.compile(r"^(?:it|he|she)\s+(?!is\b|was\b|has\b|needs\b|goes\b)[a-z]+s\b", re.I)
"""A whole sentence on what the thing does ("It circles the lighthouse a few times.") after a request that does not ask
for motion (where it would be the prompt: "bring this portrait to life. She blinks.")."""
_MOTION = re.compile(r"\b(?:animate|to life|motion|move|moving|movement)\b", re.I)


def _story(sentence: str) -> bool:
    words = sentence.strip()
    if _ALWAYS_STORY.match(words) or _WITH_IT.match(words):
        return True
    return bool(words) and bool(_STORY_SENTENCE.match(words)) and not _ACTION.search(words)


_ASKS_ANYTHING = re.compile(rf"{_VERB.pattern}|\b(?:make|give|show|sketch|please|pls|boxed|circled|marked|drew|drawn|"
                            r"want|need|would like|i.d like)\b", re.I)
"""Words that make a sentence a request, or point at a box the user drew ("I boxed it"): a question with one, or a
sentence with one after it, keeps the sentence after it ("Can you make this picture move? The boat rocking ...")."""


_ZH_ASKS_ANYTHING = re.compile(r"[？?]|帮|把|将|请|给我|生成|画|做|改|换|去掉|删|分割|框|跟踪|追踪|抠|标|找|圈|移|加|变|哪|吗|什么|怎么|多少|几")
_ZH_WHERE = re.compile(r"哪里|哪儿|在哪(?![个种些一年国座])|位置|坐标")
_ZH_PURPOSE = re.compile(r"[，,]\s*(?:我)?(?:要|是|准备|打算|想)?(?:用在|用于|用来|拿来|拿去|放在|发到|发在)[^，,。！!？?]*[。！!]*$"
                         r"|[，,]\s*(?:我|我们)(?:想|要|打算|准备)(?:数一下|数数|数一数|统计一下|发|打印|分享|做成|当)[^，,。！!？?]*[。！!]*$")
"""A Chinese purpose after the request ("，要用在出租广告里", "，我想数一下有几只"): why, not what."""
_ZH_HEARSAY = re.compile(r"^(?:但|可是|不过|而且)?[\u4e00-\u9fff]{1,4}(?:说|讲|告诉我|跟我说)")
"""A sentence of what someone said after a Chinese question ("卖家说是新换的"): story, whatever words it holds."""
_ZH_SCENE = re.compile(r"^(?:这|那)(?:是|张是|段是|幅是|张图是|张照片是)[^，,。！!？?]{2,20}[，,。！!]\s*(?=[^，,。！!？?]*(?:把|帮|请|给我))")
"""A first Chinese clause that only says what the picture is ("这是我女儿画的画，请把太阳抠出来"), before the request."""


def _zh_after_question(text: str) -> str:
    """The Chinese ``_after_question``: "这张照片是在哪个城市拍的？看着像是欧洲的教堂。" is the question alone."""
    scene = _ZH_SCENE.match(text)
    if scene:
        text = text[scene.end():]
    cut = text.find("？")
    if cut < 0 and re.search(r"[吗呢][，,]", text):  # "帮我看看...严重吗，卖家说是新换的": a question without its mark
        cut = re.search(r"[吗呢][，,]", text).start() + 1
    rest = text[cut + 1:].strip() if cut > 0 else ""
    if not rest or (_ZH_ASKS_ANYTHING.search(rest) and not _ZH_HEARSAY.match(rest)) or _ZH_WHERE.search(text[:cut]):
        return text
    return text[:cut + 1] if text[cut] == "？" else text[:cut]


def _after_question(text: str) -> str:
    """``text`` without what follows its question when that only tells about the picture ("What kind of bird is this?
    Saw it at the zoo today.", "What's wrong with the tomato leaves? They've got yellow spots."): sentences that ask
    nothing (no question mark, no action, no request) after the first question."""
    if re.search(r"[\u3400-\u9fff]", text):
        return _ZH_PURPOSE.sub("", _zh_after_question(text))
    cut = text.find("? ")
    rest = text[cut + 2:].strip() if cut > 0 else ""
    if (not rest or "?" in rest or _ASKS_ANYTHING.search(rest) or _ASKS_ANYTHING.search(text[:cut])
            or re.search(r"\bwhere\b", text[:cut], re.I)):  # "where is ...? it's somewhere in the photo": a find
        return text
    if motion_follows(text[:cut], rest):  # "Could you bring the photo to life? the mobile spinning slowly": its motion
        return text
    return text[:cut + 1]


_NAMED_THEN_IT = re.compile(
    r"^(?P<t>(?:the|my|our)\s+[\w'-]+(?:\s+[\w'-]+){0,5}?)(?:\s+(?:in|on|from)\s+(?:my|the|this|our)\s+(?:[\w'-]+\s+){0,2}?"
    r"(?:photo|picture|image|pic|shot|video|clip|footage))?\s+(?:looks?|is|seems?|feels?|was|are|ruins?|ruined|spoils?|"
    r"spoiled|wrecks?|distracts?|bothers?|annoys?|blocks?|clutters?)\s+[^.!?]*[.!]+\s+(?=\S)",
    re.I)
_NAMED_DASH_IT = re.compile(r"^(?P<t>(?:the|my|our)\s+[\w'-]+(?:\s+[\w'-]+){0,4}?)(?:\s+(?:in|on)\s+(?:this|the)\s+(?:shot|photo|"
                            r"picture|image|pic|video|clip))?\s*[—–-]+\s+(?=\S)", re.I)
"""A thing named, a dash, then a request on "it" ("the old locomotive in this shot — make it blue")."""
_THERE_THEN_IT = re.compile(r"^there(?:'s|\s+is)\s+(?P<t>(?:a|an)\s+[\w'-]+(?:\s+[\w'-]+){0,5}?)\s*[.!]+\s+(?=\S)", re.I)
_BACK_TO = r"\b(?:it|him|them)\b|\bher\b(?=\s*(?:[.!?,]|$))"
"""The pronoun that names the thing of the sentence before ("her" only where it cannot be "her hair")."""
_MEDIUM_HEAD = re.compile(r"\b(?:photo|picture|image|pic|shot|video|clip|footage|colou?rs?|light(?:ing)?|quality)$", re.I)


def _named_then_it(text: str) -> str:
    """ "The rug in my office photo looks awful. Make it navy.": a first sentence that names a thing and judges it, then
    a request on "it"; the request, with "it" the thing named (not when the thing is the picture itself)."""
    named = (_NAMED_THEN_IT.match(text) or _THERE_THEN_IT.match(text)  # "There's a crack in the wall. Can you remove it?"
             or _NAMED_DASH_IT.match(text))
    rest = text[named.end():] if named else ""
    if named is None or _MEDIUM_HEAD.search(named.group("t")) or not _ASKING.match(rest):
        return text
    its = re.findall(_BACK_TO, rest, re.I)
    return re.sub(_BACK_TO, named.group("t").lower(), rest, count=1, flags=re.I) if len(its) == 1 else text


_LOST = re.compile(r"\b(?:i|we)\s+(?:can't|cant|cannot|can not|couldn't|couldnt|don't|dont)\s+(?:spot|find|see|locate|make out)\s+"
                   r"(?P<t>(?:the|my|our|his|her|their)\s+[^.!?,]+?)(?:\s+(?:anywhere|at all|in (?:the|this|it)\b[^.!?]*))?"
                   r"\s*(?:[.!]+|\s[-–—]|[,;])\s*(?:so\s+)?where\s+(?:is|are)\s+(?:it|they)"
                   r"(?:\s+(?:now|in\s+(?:the|this)\s+(?:photo|picture|image|pic|shot)))?\s*\??\s*$", re.I)
"""A thing the user cannot find, then "where is it?" ("... and I can't spot the price tag anywhere. Where is it?"): the
question, about that thing, whatever the sentence says before it."""


_DROPPED = re.compile(r"\b(?:i|we)\s+(?:(?:must|might|may)\s+have\s+)?(?:lost|dropped|misplaced|left)\s+"
                      r"(?P<t>(?:the|my|our|his|her|their)\s+[^.!?,]+?)\s+"
                      r"(?:somewhere\s+)?(?:in|on|near|under|behind|around|by|inside|at)\s+[^.!?]*?[.!,]+\s+(?:so\s+)?"
                      r"(?:(?:(?:can|could|would)\s+(?:you|u)\s+)?(?:please\s+)?(?:find|spot|locate)\s+(?:it|them)"
                      r"(?:\s+for\s+(?:me|us))?(?:\s+please)?|where\s+(?:is|are)\s+(?:it|they)(?:\s+in\s+(?:the|this)\s+"
                      r"(?:photo|picture|image|pic|shot))?)\s*[?.!]*\s*$", re.I)
"""Something the user lost in the picture, then "can you find it?" ("I dropped my car key somewhere in the engine bay,
can you find it?"): finding that thing."""


def _lost_then_where(text: str) -> str:
    dropped = _DROPPED.search(text)
    if dropped is not None:
        return f"find {dropped.group('t')}"
    lost = _LOST.search(text)
    if lost is None:
        return text
    verb = "are" if re.search(r"\bthey\s*(?:now\s*)?\??\s*$", text, re.I) else "is"
    return f"Where {verb} {lost.group('t')}?"


def without_chatter(text: str) -> str:
    """``text`` without the story around its request: a situation or opinion before it, sentences and phrases
    after it that say why, for whom or how soon ("need to mark it for the safety report by tonight", "my
    glasses are upstairs", "thanks!!"), and hedges ("if that's possible"). A text that is only story, or whose
    last sentence asks for something, keeps those words."""
    out = _named_then_it(_lost_then_where(_PURPOSE.sub("", _HEDGE.sub("", text.strip()))))
    out = _after_question(out[_scene_end(out):])
    looked = _LOOK_AT.match(out)
    if looked:
        out = f"In {looked.group('m')}, {out[looked.end():]}"
    lead = _LEAD.match(out)
    if lead and lead.end() < len(out):
        out = out[lead.end():]
    goal = _GOAL.match(out)
    if goal and _ACTION.match(out[goal.end():]):
        out = out[goal.end():]
    opinion = _OPINION.match(out)
    if opinion and _ACTION.match(out[opinion.end():]):
        out = out[opinion.end():]
    while True:
        tail = _TAIL.search(out)
        does = (tail is not None and tail.group("sep").strip()[:1] in (".", "!", "?") and bool(_DOES.match(tail.group("s")))
                and not _MOTION.search(out[:tail.start()]) and not _ACTION.search(tail.group("s")))
        if tail is None or not tail.start() or not (does or _story(tail.group("s"))):
            break
        kept = out[:tail.start()].rstrip()
        sep = tail.group("sep").strip()
        out = kept + (sep[0] if sep[:1] in ("?", "!", ".") and not kept.endswith(sep[:1]) else "")
    return _HEDGE.sub("", out).strip() or text.strip()
