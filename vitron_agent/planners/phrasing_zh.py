"""Chinese wordings the templates lack, read by rules: objects, verbs, prompts, animations, additions, styles.

The tagger reads Chinese through a character feature and often cuts a phrase short or misses a bare noun
("把狗换成猫"); these rules read the object between a verb and its particle (``chinese_object``), a clause by
its verb when the model is unsure (``chinese_reading``), a generation prompt without the asking
(``chinese_prompt``), and whether a clause asks rather than commands (``asks_in_chinese``).

Chinese requests often put the content after the command, behind a comma ("让这张图动起来，人物眨眼微笑",
"把这张照片做成视频，云慢慢飘动"); add things with 加/放 and an optional place ("在桌子上加一个花瓶",
"加一只鸟在天上", "加上下雪的效果"); name a style before 风格 ("变成黑白电影风格"); and make things go
away with 消失 ("让背景里的路人消失"). The tagger cuts these short; the rules here read them whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .targets import INSTRUMENT_ZH

__all__ = [
    "ANIMATES_ZH",
    "chinese_animates",
    "chinese_motion",
    "chinese_addition",
    "chinese_place",
    "chinese_scene",
    "chinese_style",
    "chinese_vanish",
    "chinese_counts",
    "chinese_object",
    "chinese_prompt",
    "chinese_generation_medium",
    "ZhReading",
    "chinese_reading",
    "asks_in_chinese",
    "chinese_bare",
    "chinese_another",
]

ANIMATES_ZH = (r"(?:动起来|活起来|(?:做|变|转|弄|生成|改)成(?:一段|一个)?(?:视频|动画|动图|短片)|"
               r"(?:生成|做)(?:一段|一个)?(?:视频|动画))")
_ANIMATES = re.compile(rf"^(?:请|帮我|再|然后|接着)?(?:把|将|让)?(?P<what>[^，,。]*?){ANIMATES_ZH}(?:吧)?"
                       r"(?:[，,：:。]\s*(?:让|使)?(?P<p>.+?))?[吧。！!]*$")
_IMAGE_WORDS = re.compile(r"^(?:这张|这幅|那张|它|结果|刚才的结果|生成的|这个)?(?:图片?|照片|画面|图像|画|结果)?$")


def chinese_animates(clause: str) -> bool:
    """ "让这张图动起来", "把结果做成视频，花瓣飘落": the clause animates an image (the attached one, or one made
    earlier); not "帮我生成一段视频：..." (a new video) nor "让旗子飘起来" (motion of a named thing, read elsewhere)."""
    found = _ANIMATES.match(clause.strip())
    if found is None or not _IMAGE_WORDS.match(found.group("what") or ""):
        return False
    head = clause[:found.end("what")] if found.group("what") is not None else ""
    return bool(re.search(r"[把将让使]", head)) or bool(re.search(r"动起来|活起来", clause))


def chinese_motion(clause: str) -> str | None:
    """The motion after an animation command ("让这张图动起来，人物眨眼微笑" -> "人物眨眼微笑"); None when none."""
    found = _ANIMATES.match(clause.strip())
    if found is None or not found.group("p"):
        return None
    return found.group("p").strip(" ，,。") or None


_ADD = re.compile(r"(?:加上|加入|添加|添上|增加|放上|放|加|画上)(?P<n>[^，,。！!]+?)"
                  r"(?:的(?:效果|特效)|效果|特效)?(?:在(?P<w>[^，,。！!的]+?)(?:上|里|中|旁边)?)?[吧。！!]*$")
_ADD_PLACE_FIRST = re.compile(r"^(?:请|帮我|再|然后)?(?:在|往|给)(?P<w>[^，,。]+?)(?:上|里|中|旁边|上面)?(?=加|添|放|增|画上)")


def chinese_addition(clause: str) -> str | None:
    """The thing an addition adds ("在桌子上加一个花瓶" -> "一个花瓶", "加一只鸟在天上" -> "一只鸟",
    "给这个视频加上下雪的效果" -> "下雪"); None when the clause adds nothing."""
    text = clause.strip()
    if re.search(r"换成|替换|变成|改成|删|去掉", text):
        return None
    found = _ADD.search(text)
    if found is None:
        return None
    start = found.start()
    if start and not _ADD_PLACE_FIRST.match(text) and not re.match(r"^(?:请|帮我|再|然后|并且|还)?$", text[:start]):
        return None
    return re.sub(r"^(?:个|只|张|朵|棵|条|块|盆|把)(?=\S)", "", found.group("n").strip()) or None


_STYLE = re.compile(r"(?:变成|转成|改成|换成|做成|弄成|调成|转换成|处理成|渲染成|画成|转为|变为|改为)(?:一种|一个)?(?P<s>[^，,。！!]+?)"
                    r"(?:那种|这种|那样|这样|一样)?(?:的)?(?:风格|画风|风|效果|样式|的样子)[吧。！!]*$")


_PLACE = re.compile(r"^(?:请|帮我|再|然后)?(?:在|往)(?P<w>[^，,。]+?)(?:上面|上|里面|里|中|旁边)?(?=加|添|放|增|画上)|"
                    r"(?:加|添|放|画)[^，,。]*?在(?P<w2>[^，,。]+?)(?:上面|上|里面|里|中|旁边)?[吧。！!]*$")


def chinese_place(clause: str) -> str | None:
    """Where an addition goes ("在桌子上加一个花瓶" -> "桌子", "加一只鸟在天上" -> "天"); None when unsaid."""
    found = _PLACE.search(clause.strip())
    return (found.group("w") or found.group("w2")) if found else None


_TONE = re.compile(r"(?:变成|转成|改成|调成|处理成|换成|弄成)(?P<s>[^，,。！!]+?(?:色调|滤镜|色彩|质感|胶片感|画质)|黑白)(?:的|色)?[吧。！!]*$")


def chinese_style(clause: str) -> str | None:
    """The style named before 风格 ("把整个视频变成黑白电影风格" -> "黑白电影"), or a tone ("调成复古色调" ->
    "复古色调"); None otherwise."""
    found = _STYLE.search(clause.strip()) or _TONE.search(clause.strip())
    if found is None:
        return None
    style = found.group("s")
    if len(style) == 1 and clause.strip()[found.end("s"):].startswith("画风"):
        style += "画"  # "油画风", "漫画风": a one-character genre keeps its 画
    return style


_VANISH = re.compile(r"^(?:请|帮我|再|然后)?(?:(?:让|使|把)(?P<t>[^，,。]+?)(?:消失|不见|没了)(?:吧|掉)?|"
                     r"(?:把|将)(?P<t2>[^，,。]+?)(?:给)?(?:拿走|搬走|弄走|弄掉|扔掉|拿掉|移走))[吧。！!]*$")


def chinese_vanish(clause: str) -> str | None:
    """The thing made to disappear ("让背景里的路人消失" -> "背景里的路人"), or taken away ("把垃圾桶搬走" ->
    "垃圾桶": verbs the model reads less surely than 删掉); None otherwise."""
    found = _VANISH.match(clause.strip())
    return (found.group("t") or found.group("t2")) if found else None


_SCENE = re.compile(r"^(?:然后|再|接着|并且|请|帮我)*(?:(?:把|将)(?:它们|它|他|她|结果|抠出来的[^，,。]*?|[^，,。]{0,8}?))?(?:放到|放在|放进|"
                    r"贴到|贴在|搬到|合成到|移到)(?P<s>[^，,。]+?)(?:上面|上|里面|里|中|前面|前)?(?:去)?[吧。！!]*$")
_NOT_SCENE = re.compile(r"^(?:左|右|上|下|中间|中央|角落|旁边|最|画面|图片?|照片)")


def chinese_scene(clause: str) -> str | None:
    """The new background a cut-out is put on ("然后放到沙滩上" -> "沙滩"); None for other clauses (and for a
    move: "移到左边")."""
    found = _SCENE.match(clause.strip())
    if found is None or _NOT_SCENE.match(found.group("s")):
        return None
    return found.group("s")


_COUNTS = re.compile(r"^(?:请|麻烦|帮我|你)*(?:描述|介绍|说说|讲讲|评价|分析|解释)(?:一下)?|(?:几|多少)(?:个|只|辆|张|位|条|匹|头|棵|朵|件|名|次|秒|分钟|帧)?|多久|多长时间|在做什么|在干什么|在干嘛|在干啥|在忙什么|是什么|"
                     r"写(?:一段|一篇|几句|一句|段|篇|个|一个)[^，,。！!]*?(?:介绍|描述|说明|文案|简介|配文|标题)|"
                     r"什么颜色|什么样|叫(?:做)?什么|什么(?:名字|品种|牌子|型号|意思)|为什么|怎么样|吗[？?]?$|[着了过](?:些|的是)?什么(?:东西)?[？?]*$|哪(?:个|种|些|一个|一种|一年|国|座)(?!位置|地方|角落)")
_COMMAND = re.compile(r"把|将|找到|找出|标出|框出|圈出|分割|抠|跟踪|追踪|删|去掉|换成|变成|改成")


def chinese_counts(clause: str) -> bool:
    """A Chinese question that counts, measures or asks what ("视频里一共出现了几个人", "告诉我它在做什么"), with no
    command in it."""
    return bool(_COUNTS.search(clause)) and not _COMMAND.search(clause)


_ZH_DETERMINER = re.compile(r"^(?:(?:这|那|一)(?:只|个|辆|张|把|棵|条|台|本|块|位|些|朵|幅|束|杯|段|片|座|头|匹|件|顶|盏|双|对|副|盆|株|碗|盘|瓶|枝|艘|架)?|"
                            r"所有的?|全部的?|每一?(?:个|只|辆|位|张|条|朵|棵|头|匹|件|块|座|名|把|台)|(?:里面|里头|上面|其中)的?|"
                            r"(?:图|图片|照片|画面|视频|图像)(?:中|里|上)的?|(?:从|在)?(?:方框|选框|框|我框的|框出来的)(?:里|中|内)?的?)+")
_ZH_NOT_OBJECT = re.compile(r"^(?:(?:这个|该|那个)?(?:区域|范围|框|位置|地方|处)(?:里|中|内)?的?(?:东西|物体|目标|内容|部分)?|它|它们|这个|那个|结果|刚才的结果|刚才那个|东西|物体|区域|部分|地方|选中的部分|这个区域|"
                            r"框|框里|框中|框里的?|框出来的部分|标出的区域|图|图片|照片|视频|画面|图像|这张图片?|这张照片|这段视频|这个视频|整张图|"
                            r"整个视频|背景风格|风格)$")
_ZH_OBJECT = (
    re.compile(rf"(?:把|将)(?P<t>.+?)(?:给|单独|都|全部|全都|统统|一起|分别)?(?:{INSTRUMENT_ZH})?(?:换成|替换成|替换为|变成|变为|改成|改为|涂成|染成|刷成|漆成|喷成|涂上|刷上|删掉|删除|删了|去掉|擦干净|清理干净|清理掉|擦掉|抹掉|移除|去除|"
               r"P掉|p掉|清除掉|清除|清掉|擦除|消除|拿掉|拿走|移走|搬走|弄走|弄掉|扔掉|分离出来|分割出来|抠出来|选出来|提取出来|单独抠出来|跟踪|追踪|框出来|标出来|圈出来|框起来|圈起来|框住|标记出来|勾勒出来|勾出来|描出来|移到|挪到|(?:往|向)(?=左|右|上|下|前|后|里|外|中|旁|边)|的颜色|从)"),
    re.compile(r"^(?:请|请你|帮我|麻烦|给我|你能|可以|帮忙|麻烦你|能不能|能否)*(?:找到|找出|找找|找|检测出?|定位|标出|框出|圈出|分割出?|抠出|提取|勾勒出?|勾出|描出|跟踪|追踪|"
               r"删除|删掉|删去|去掉|移除|去除|抹掉|擦掉|拿掉|拿走|清除|识别出?)(?:一下)?(?P<t>[^，,。！？?]+?)(?:的(?:位置|轮廓|运动|掩码|蒙版))?"
               r"[吧。！!？?]*$"),
    re.compile(r"^(?:请|请你|帮我|麻烦|你能|可以|帮忙|麻烦你|能不能|能否)*给(?P<t>[^，,。！？?]+?)(?:做|生成|出|弄|画)(?:一个|一张|一份|个|张)?"
               r"(?:[^，,。]*?的)?(?:蒙版|掩码|遮罩|mask|轮廓|分割)"),
)


def chinese_object(clause: str) -> str | None:
    """The object a Chinese clause acts on ("把狗换成猫" -> "狗", "找到人脸" -> "人脸"), without the
    demonstratives and measure words around it; None when no pattern reads one."""
    for pattern in _ZH_OBJECT:
        found = pattern.search(clause)
        if found:
            phrase = _ZH_DETERMINER.sub("", found.group("t").strip())
            if phrase and re.search(r"[\u3400-\u9fff]", phrase) and not _ZH_NOT_OBJECT.match(phrase):
                return phrase
    return None


_ZH_GEN = re.compile(r"^(?:请|请你|请您|麻烦您|帮我|麻烦|给我|我想要|我要|能不能|可以)?(?:帮我)?(?:画|生成|创建|制作|做|拍|来|绘制|设计)"
                     r"(?:(?:一张|一幅|一段|一个|张|幅|段|个)(?=图|照片|视频|短视频|动画|图像|短片|.*的(?:图片?|照片|视频|短视频|动画|图像|短片)[吧。！!？?]*$))?(?:图片?|照片|视频|短视频|动画|图像|短片)?"
                     r"(?:[，,:：]|内容是|画面是)*"
                     r"(?P<p>.+?)(?:的(?:图片?|照片|视频|短视频|动画|图像|短片)|图)?[吧。！!？?]*$")


_ZH_GEN_MEDIUM = re.compile(r"^(?:请|请你|请您|麻烦您|帮我|麻烦|给我|我想要|我要|能不能|可以)?(?:帮我)?(?:画|生成|创建|制作|做|来|绘制|设计)"
                            r"(?:一张|一幅|一段|一个|张|幅|段|个)?(?P<m>图片?|照片|图像|插画|视频|短视频|动画|短片)"
                            r"|^(?:请|请你|请您|麻烦您|帮我|麻烦|给我)?(?:帮我)?(?:画|绘制|做|生成|制作|创建|设计)(?P<still>一幅|一张|幅|张)"
                            r"(?!.*(?:视频|动画|短片))")
"""The medium named right after the verb, or a picture made (画一幅/做一张/生成一张 ...: 张 and 幅 count stills, however it
goes on)."""


def chinese_generation_medium(clause: str) -> str | None:
    """The medium a Chinese generation names right after its verb ("生成一张图：..." -> "image"), which decides
    between an image and a video; None when none is named there."""
    found = _ZH_GEN_MEDIUM.match(clause.strip())
    if not found:
        return None
    return "video" if (found.group("m") or "") in ("视频", "短视频", "动画", "短片") else "image"


def chinese_prompt(clause: str) -> str | None:
    """The prompt of a Chinese generation request, the asking and the medium left out ("画一只在月光下睡觉的狐狸"
    -> "一只在月光下睡觉的狐狸"); None when it is not one."""
    found = _ZH_GEN.match(clause.strip())
    if not found or not found.group("p"):
        return None
    return _ZH_WANTS.sub(r"\g<c>", _ZH_MEDIUM_FIRST.sub(lambda m: m.group("x") or m.group("x2"), found.group("p")))


_ZH_MEDIUM_FIRST = re.compile(r"^(?:一张|一幅|一段|一个|张|幅|段|个)(?:(?P<x>[^，,：:]+?)(?:的(?:图片?|照片|视频|短视频|动画|图像|短片|插画)|"
                              r"(?<!地)(?:图片?|照片|视频|短片))|(?P<x2>[^，,：:]+?插画))(?=[，,：:])")
"""The medium in front of a description that goes on ("一张赛博朋克城市夜景的图片，街上有霓虹灯": the scene and the rest; a
插画 with a style word before it is that style and stays: "一张毕业典礼的卡通插画，..." -> "毕业典礼的卡通插画，...", while
"一幅小猫的插画，..." -> "小猫，...")."""
_ZH_WANTS = re.compile(r"(?P<c>[，,：:])\s*(?:要有|需要有|要带有?|带有|还要有|得有|最好有|里面要有|画面里要有)")
"""A requirement after the scene ("...街景，要有霓虹灯和雨水"): what it asks for stays, the asking goes."""


@dataclass(frozen=True)
class ZhReading:
    """What a rule reads from a Chinese clause: the task, edit op, object and the op's phrase."""

    task: str
    op: str = "none"
    target: str | None = None
    args: dict[str, str] = field(default_factory=dict)


_ZH_COLOR = re.compile(r"^(?:(?:浅|深|淡|亮|暗|天|粉|米|藏|墨|草|湖|橘|玫|酒|薄荷|橄榄|孔雀|宝石|天空|海军|柠檬|玫瑰|珊瑚|香槟|奶油|"
                       r"荧光|军|宝|土|姜|雾霾|牛仔|樱花|苹果|森林|咖啡|奶|雾)?(?:红|橙|橘|黄|绿|青|蓝|紫|粉|黑|白|灰|棕|金|银|褐|咖啡|米|杏|卡其)"
                       r"|(?:薄荷|橄榄|珊瑚|香槟|奶油|酒红|藏青|驼|玫瑰金)色)(?:色的?|的)?$")
"""A Chinese colour: a base colour, with a shade or a thing of that colour before it (浅蓝, 薄荷绿, 橄榄绿, 香槟色)."""
_ZH_TASKS = (
    ("edit_image", "move", re.compile(r"(?:移到|挪到|移至|往|向)(?P<a>[左右上下])")),
    ("edit_image", "swap", re.compile(r"(?:换成|替换成|替换为|变成|变为|改成|改为|涂成|染成|刷成|漆成|喷成|涂上|刷上)(?:一(?:只|个|辆|朵|张|把|棵|束|杯))?"
                                      r"(?P<a>[^，,。！？?吧]+?)(?:吧|。|！|$)")),
    ("edit_image", "remove", re.compile(r"删掉|删除|删了|去掉|擦掉|抹掉|移除|去除|[Pp]掉|不要|清除|清掉|擦除|消除|拿掉|拿走|移走|"
                                        r"搬走|弄走|弄掉|扔掉")),
    ("segment", "none", re.compile(r"分割|抠|提取|选出来|蒙版|掩码|遮罩|勾勒|勾出|描出")),
    ("track", "none", re.compile(r"跟踪|追踪|盯住")),
    ("ground", "none", re.compile(r"找到|找出|检测|定位|标出|框出|圈出|框起来|圈起来|框住|标记出|在哪|识别")),
)


def chinese_reading(clause: str, on_video: bool) -> ZhReading | None:
    """A Chinese clause read by its verb ("找到狗" -> ground 狗, "把狗换成猫" -> replace 狗 with 猫), for
    clauses the model is unsure of; None when no verb here is in it."""
    for task, op, pattern in _ZH_TASKS:
        found = pattern.search(clause)
        if found is None:
            continue
        target = chinese_object(clause)
        if task == "track" and not on_video:
            task = "segment"
        args: dict[str, str] = {}
        if op == "move":
            args = {"direction": found.group("a")}
        elif op == "swap":
            phrase = found.group("a").strip()
            phrase = phrase[:-1] if _ZH_COLOR.match(phrase) and phrase.endswith("色的") else phrase
            op, args = ("recolor", {"color": phrase}) if _ZH_COLOR.match(phrase) else ("replace", {"new": phrase})
        return ZhReading(task, op, target, args)
    return None


_ZH_QUESTION = re.compile(r"[？?]|吗|什么|哪|几|多少|怎么|为什么|是不是|有没有|描述|介绍|说说|讲讲|分析|评价")


def asks_in_chinese(clause: str) -> bool:
    """A Chinese clause that asks something (a question mark, 吗, 什么, 哪...), as opposed to a command."""
    return bool(_ZH_QUESTION.search(clause))


def chinese_bare(phrase: str) -> str:
    """A Chinese phrase without the demonstratives, measure words and "in the picture" in front ("这只狗" -> "狗")."""
    return _ZH_DETERMINER.sub("", phrase)


_ANOTHER = re.compile(r"^(?:那|好的?|不错)?[，,]?(?P<again>再|重新)?(?:来|画|生成|做|出)(?:一张|一幅|一个|张|幅|个)(?:吧|呗|图)?(?:[，,。]\s*(?P<rest>.*))?$")
_CHANGED = re.compile(r"(?:但是?|不过|只是|这次|这回)?(?:要)?(?:换成|改成|变成)(?P<c>[^，,。！!]+?)[吧。！!]*$")


def chinese_another(clause: str, previous: str) -> str | None:
    """The prompt of "another one" after a generation, with the change it names ("再来一张吧，还是那只橘猫，但是换成在雪地里
    打盹" after "一只在樱花树下打盹的橘猫，日系插画风" -> "一只在雪地里打盹的橘猫，日系插画风": the span of ``previous`` that starts
    and ends as the change does is replaced); ``previous`` itself when no change is named; None when the clause asks
    for no other one."""
    found = _ANOTHER.match(clause.strip())
    if found is None or not (found.group("again") or re.search(r"还是|同样|一样|这次|这回|换成|改成", found.group("rest") or "")):
        return None  # "画一张，..." alone is a new picture; 再 may have gone with the split before this clause
    change = _CHANGED.search(found.group("rest") or "")
    if change is None:
        return previous
    new = change.group("c").strip()
    for tail in range(len(new) - 1, 0, -1):  # the longest end of the change that the old prompt has
        end = previous.find(new[-tail:])
        if end < 0:
            continue
        end += tail
        for head in range(min(len(new) - tail, 4), 0, -1):  # and the longest start of it before that
            start = previous.rfind(new[:head], 0, end - tail)
            if start >= 0:
                return previous[:start] + new + previous[end:]
        break
    start = previous.find(new[0]) if new[0] in "在正被" else -1  # "在沙滩上奔跑" for "在樱花树下打盹": up to its 的
    end = previous.find("的", start) if start >= 0 else -1
    return previous[:start] + new + previous[end:] if end > start >= 0 else f"{previous}，{new}"

