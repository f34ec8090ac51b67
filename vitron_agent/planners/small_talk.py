"""Questions about the assistant itself ("what can you do?", "who made you?"): chat, not a question for an expert.

Such a question says nothing about an image or video, so no expert can answer it; the planner replies with
its own help text instead of calling the visual question answerer.
"""

from __future__ import annotations

import re

__all__ = ["about_the_assistant"]

_ABOUT_YOU = re.compile(
    r"^(?:(?:hi|hello|hey|so|ok(?:ay)?|and)[\s,!]+)*(?:"
    r"(?:what|which)\s+(?:(?:kinds?|sorts?|types?)\s+of\s+(?:things|stuff|tasks|jobs|requests)\s+)?(?:can|could|do|are|will)\s+"
    r"you\s+(?:do|help(?:\s+me)?(?:\s+with)?|handle|able to do|capable of(?:\s+doing)?|good at|support|offer|know)"
    r"|what\s+(?:are|r)\s+(?:you|u)(?:\s+(?:able to do|capable of|good at|for))?"
    r"|what\s+(?:can|could)\s+(?:you|u)\s+(?:do|help with)"
    r"|who\s+(?:made|built|created|developed|designed|trained|wrote|programmed|owns|are)\s+(?:you|u)"
    r"|(?:how|what)\s+(?:do|does)\s+(?:you|this(?:\s+(?:tool|app|agent|thing))?)\s+work"
    r"|what(?:'s|\s+is|\s+are)\s+your\s+(?:name|capabilities|features|skills|functions|abilities|limits|limitations|"
    r"superpowers)|who\s+are\s+you|are\s+you\s+(?:a\s+)?(?:bot|robot|human|an?\s+ai)"
    r"|how\s+can\s+you\s+help(?:\s+me)?|can\s+you\s+help\s+me"
    r")\s*[?.!]*$", re.I)
_ABOUT_YOU_ZH = re.compile(r"^(?:你好[，,！!]?)?(?:你(?:都|还)?(?:能|会|可以)(?:做|干|帮我做|帮我干)?(?:些)?(?:什么|哪些(?:事情?|事儿)?|啥)|"
                           r"你是谁(?:开发|做|制作|创造|训练|发明)?的?|谁(?:开发|创造|制作|做|训练)了你|你叫什么(?:名字)?|"
                           r"你有(?:什么|哪些)(?:功能|本事|能力))[？?。！!]*$")


def about_the_assistant(text: str) -> bool:
    """The whole request asks about the assistant ("what can you do?", "你是谁开发的？"), nothing else."""
    text = text.strip()
    return bool(_ABOUT_YOU.match(text) or _ABOUT_YOU_ZH.match(text))
