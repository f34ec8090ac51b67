"""Chinese training requests for LitePlanner, in the same form as ``lite_data`` (one ``LiteExample`` per
clause, spans as character ranges).

The encoder reads most Chinese characters as ``[UNK]``; the heads' character feature
(``planners.lite_model.char_bucket``) is what these examples teach. Spans leave out demonstratives and
measure words ("这只猫" -> "猫"), as the English ones keep the determiner but compare without it.
"""

from __future__ import annotations

import random

__all__ = ["example_zh"]

_NOUNS = ("猫", "狗", "车", "汽车", "杯子", "咖啡杯", "人", "女人", "男人", "孩子", "小孩", "树", "灯", "台灯", "船", "瓶子",
          "笔记本电脑", "电脑", "钟", "椅子", "花", "鸟", "马", "斑马", "桌子", "手机", "包", "书包", "伞", "帽子", "窗户",
          "门", "花瓶", "房子", "公交车", "卡车", "盘子", "书", "沙发", "风筝", "牛", "羊", "火箭", "摩托车", "脸", "人脸",
          "吉他", "披萨", "蛋糕", "自行车", "球", "足球", "苹果", "香蕉", "茶壶", "碗", "电视", "飞机", "狮子", "老虎",
          "熊猫", "兔子", "鸭子", "鱼", "山", "旗子", "行李箱", "键盘", "鼠标", "剪刀", "长颈鹿", "大象", "枕头", "勺子",
          "路灯", "红绿灯", "消防栓", "泰迪熊", "水杯", "眼镜", "鞋子", "气球", "蜡烛", "雨伞", "女孩", "男孩", "老人",
          "天空", "云朵", "太阳", "月亮", "河", "桥", "路人", "行人", "背景", "墙", "地板", "窗帘", "地毯", "冰箱", "微波炉",
          "水龙头", "衣服", "外套", "裙子", "衬衫", "裤子", "围巾", "手表", "项链", "戒指", "耳机", "相机", "无人机", "飞鸟",
          "小鸟", "鸽子", "海鸥", "蝴蝶", "蜜蜂", "松鼠", "鹿", "狐狸", "熊", "猴子", "企鹅", "海豚", "鲸鱼", "乌龟", "青蛙",
          "火车", "地铁", "出租车", "救护车", "警车", "轮船", "帆船", "滑板", "冲浪板", "篮球", "网球拍", "棒球棒", "奖杯",
          "木椅", "书架", "台灯罩", "垃圾桶", "购物车", "指示牌", "招牌", "水印", "文字", "标志", "雕像", "喷泉", "帐篷",
          "瀑布", "雪人", "南瓜", "西瓜", "葡萄", "草莓", "面包", "汉堡", "咖啡", "茶杯", "酒杯", "蛋糕盒")
_COMMON_CHARS = ("的一是不人在有大中上国小年生子工出地时成多长分能开发天过家下面而方后作动走心手看起样"
                 "还水花车马鸟鱼草木石山河风雨雪云日月光红蓝绿黄白黑金银门窗桌椅灯书包杯瓶盒球帽衣鞋裙")
"""Characters for made-up nouns: the tagger must find the object from the sentence around it, not from a list."""
_ADJ = ("", "", "", "", "", "", "红色的", "白色的", "黑色的", "蓝色的", "小", "大", "左边的", "右边的", "中间的", "前面的",
        "后面的", "桌子上的", "最大的", "旧", "木头", "穿红衣服的", "戴帽子的", "踢球的", "坐着的", "跑步的", "背景里的",
        "远处的", "角落里的", "戴眼镜的", "拿着伞的", "沙发上的", "墙上的", "路边的")
_DEMONSTRATIVE = ("", "", "", "", "这只", "那只", "这个", "那个", "这辆", "那辆", "这张", "那棵", "图中的", "图里的",
                  "照片里的", "画面中的", "视频里的")
_NEW = ("猫", "狗", "老虎", "气球", "红气球", "花", "一束花", "向日葵", "玫瑰", "帽子", "墨镜", "彩虹", "月亮", "云", "机器人",
        "蓝色的车", "一杯咖啡", "蜡烛", "南瓜", "企鹅", "熊猫", "兔子", "雪人", "橙子", "柠檬", "小船", "树", "马")
_COUNT = ("", "", "一个", "一只", "一朵", "一辆", "一些", "一张", "一把", "一棵", "一束")
_COLORS = ("红色", "蓝色", "绿色", "黄色", "橙色", "紫色", "粉色", "粉红色", "黑色", "白色", "灰色", "棕色", "金色", "银色",
           "浅蓝色", "深绿色", "红的", "蓝的", "天蓝色", "青色")
_STYLES = ("水彩画", "油画", "卡通", "素描", "黑白", "动漫", "漫画", "像素", "复古", "梵高", "铅笔画", "水墨画", "国画",
           "印象派", "赛博朋克", "版画")
_DIRS = {"左": "left", "右": "right", "上": "up", "下": "down"}
_PROMPTS = ("猫戴帽子", "海边的日落", "雪山下的小木屋", "一只在草地上奔跑的狗", "太空中的宇航员", "夜晚的城市", "一碗拉面",
            "一条在云中飞翔的龙", "森林里的小鹿", "下雨的街道", "海浪拍打礁石", "一只可爱的熊猫", "秋天的枫叶", "星空下的帐篷",
            "花园里的蝴蝶", "一艘帆船", "古老的城堡", "未来城市", "樱花树下的女孩", "一杯热咖啡", "沙漠中的骆驼",
            "冬天的雪景", "一只橘猫在睡觉", "灯塔和大海", "孩子们在放风筝", "烟花绽放的夜空", "一辆复古汽车", "水下的珊瑚礁",
            "海浪", "火山爆发", "一只狐狸在雪地里", "热气球飞过山谷")
_PREFIX = ("", "", "", "", "请", "请你", "帮我", "麻烦", "能不能", "可以帮我", "你能", "现在", "接着", "再", "我想")
_SUFFIX = ("", "", "", "", "吧", "。", "！", "，谢谢", "一下", "好吗？", "谢谢")
_PRONOUNS = ("它", "它", "这个", "那个", "结果", "刚才的结果", "这个蒙版", "刚才那个", "选中的部分")
_BOX_WORDS = ("框里的东西", "框选的区域", "这个区域", "我框的地方", "框里的物体", "选框里的东西", "标出的区域", "框里的",
              "框出来的部分", "我圈的东西")
_IN_BOX = ("框里的", "框中的", "选框里的", "我框出来的")
_BOX_QUESTIONS = ("框里的是什么东西？", "框里是什么？", "我框的这个是什么", "框里的{n}是什么颜色的？", "这个区域里有什么？",
                  "框出来的是什么品牌？")
_IT_QUESTIONS = ("它是什么颜色的？", "这是什么牌子的？", "它是用什么做的？", "它有多大？", "那是什么？")
_QUESTIONS = ("这张图片里有什么？", "图里有几个{n}？", "描述一下这张图片", "{n}是什么颜色的？", "这是哪里？", "给这张照片写个标题",
              "视频里发生了什么？", "图里有{n}吗？", "这是什么？", "{n}在做什么？", "照片是在哪里拍的？", "画面里有多少人？",
              "帮我描述一下这个视频", "这张图讲的是什么", "图片上的字写的什么？", "现在是白天还是晚上？")
_CHAT = ("你好", "您好", "谢谢", "好的", "再见", "太棒了", "谢谢你", "嗯", "不错", "早上好", "收到", "辛苦了", "哈哈", "好")

_SEGMENT = (["给", "{r}", "做个掩码"], ["分割一下", "{r}"], ["把", "{r}", "的遮罩做出来"], ["生成", "{r}", "的掩码"],
            ["分割", "{r}"], ["把", "{r}", "抠出来"], ["抠出", "{r}"], ["把", "{r}", "分割出来"], ["给", "{r}", "做个蒙版"],
            ["提取", "{r}"], ["把", "{r}", "选出来"], ["抠图", "{r}"], ["把", "{r}", "单独抠出来"], ["分割出", "{r}"],
            ["把", "{r}", "从背景里分离出来"], ["勾出", "{r}", "的轮廓"])
_GROUND = (["找到", "{r}"], ["找出", "{r}"], ["{r}", "在哪里"], ["{r}", "在哪儿？"], ["检测", "{r}"], ["定位", "{r}"],
           ["标出", "{r}"], ["框出", "{r}"], ["把", "{r}", "框出来"], ["{r}", "在什么位置"], ["帮我找一下", "{r}"],
           ["圈出", "{r}"])
_TRACK = (["跟踪", "{r}"], ["追踪", "{r}"], ["一直跟着", "{r}"], ["跟踪视频里的", "{r}"], ["追踪", "{r}", "的运动"],
          ["在视频中跟踪", "{r}"], ["盯住", "{r}"], ["在整个视频里追踪", "{r}"], ["一直追踪", "{r}"],
          ["跟着", "{r}", "走"])
_GEN_IMAGE = (["生成一张", "{prompt}", "的图片"], ["画一张", "{prompt}"], ["帮我画", "{prompt}"], ["给我一张", "{prompt}", "的照片"],
              ["我想要一张", "{prompt}", "的图"], ["创建一张", "{prompt}", "的图像"], ["画", "{prompt}"],
              ["生成", "{prompt}", "的图片"], ["画一幅", "{prompt}"], ["来一张", "{prompt}", "的图"],
              ["帮我生成一张", "{prompt}", "图"], ["生成一张图，内容是", "{prompt}"], ["画一张图：", "{prompt}"],
              ["给我画一个", "{prompt}"])
_GEN_VIDEO = (["生成一段", "{prompt}", "的视频"], ["做一个", "{prompt}", "的短视频"], ["制作一段", "{prompt}", "的动画"],
              ["我想要一个", "{prompt}", "的视频"], ["生成", "{prompt}", "的视频"], ["拍一段", "{prompt}", "的视频"],
              ["来一段", "{prompt}", "的短片"], ["做个小视频，内容是", "{prompt}"], ["生成一个视频：", "{prompt}"],
              ["做一段视频，画面是", "{prompt}"])
_ANIMATE = (["让这张图片动起来"], ["把这张照片变成视频"], ["让", "{target}", "动起来"], ["让图片活起来"], ["把图片做成动画"],
            ["让画面动起来"], ["把这张图做成一段视频"], ["让", "{target}", "飘起来"], ["给这张图加上动态效果"])
_EDIT = {
    "remove": (["把", "{r}", "删掉"], ["删除", "{r}"], ["去掉", "{r}"], ["把", "{r}", "去掉"], ["移除", "{r}"],
               ["把", "{r}", "擦掉"], ["抹掉", "{r}"], ["不要", "{r}"], ["把", "{r}", "从图里删除"], ["去除", "{r}"],
               ["把", "{r}", "P掉"], ["去掉", "{r}"], ["帮我去掉", "{r}"], ["把", "{r}", "给删了"]),
    "replace": (["把", "{r}", "换成", "{count}", "{new}"], ["把", "{r}", "替换成", "{count}", "{new}"],
                ["用", "{count}", "{new}", "替换", "{r}"], ["把", "{r}", "变成", "{count}", "{new}"],
                ["将", "{r}", "换成", "{count}", "{new}"], ["把", "{r}", "改成", "{count}", "{new}"]),
    "add": (["加", "{count}", "{new}"], ["在", "{r}", "旁边加", "{count}", "{new}"], ["添加", "{count}", "{new}"],
            ["在图里放", "{count}", "{new}"], ["在", "{r}", "上加", "{count}", "{new}"], ["给", "{r}", "加上", "{count}", "{new}"],
            ["在画面里添加", "{count}", "{new}"]),
    "recolor": (["把", "{r}", "变成", "{color}"], ["把", "{r}", "涂成", "{color}"], ["把", "{r}", "改成", "{color}"],
                ["将", "{r}", "的颜色改为", "{color}"], ["把", "{r}", "染成", "{color}"], ["把", "{r}", "的颜色换成", "{color}"],
                ["{r}", "改成", "{color}"]),
    "restyle": (["把图片变成", "{style}", "风格"], ["转成", "{style}", "风格"], ["做成", "{style}", "的效果"],
                ["把这张照片改成", "{style}", "风格"], ["变成", "{style}"], ["把它变成", "{style}", "风格"],
                ["用", "{style}", "风格重绘这张图"], ["给图片加个", "{style}", "滤镜"]),
    "move": (["把", "{r}", "移到", "{direction}", "边"], ["把", "{r}", "往", "{direction}", "移"],
             ["将", "{r}", "向", "{direction}", "移动"], ["把", "{r}", "挪到", "{direction}", "边"],
             ["把", "{r}", "往", "{direction}", "挪一点"]),
}


def _target(rng: random.Random) -> str:
    if rng.random() < 0.25:
        noun = "".join(rng.choice(_COMMON_CHARS) for _ in range(rng.choice((1, 2, 2, 3))))
    else:
        noun = rng.choice(_NOUNS)
    return rng.choice(_ADJ) + noun


def example_zh(rng: random.Random, task: str, op: str = "none"):
    """One Chinese ``LiteExample`` for ``task`` (and edit ``op``), context flags and region source set."""
    from .lite_data import LiteExample, assemble_request

    fill = {"new": rng.choice(_NEW), "count": rng.choice(_COUNT), "color": rng.choice(_COLORS),
            "style": rng.choice(_STYLES), "direction": rng.choice(list(_DIRS)), "prompt": rng.choice(_PROMPTS),
            "target": _target(rng)}
    meta: dict = {}
    kind = rng.choices(("named", "in_box", "box", "it"), (5, 2, 1.5, 2.5))[0]
    if task == "ground" or op == "add":
        kind = rng.choices(("named", "in_box"), (5, 1))[0]
    ref: list[str] = ["{skip}", "{target}"]
    fill["skip"] = rng.choice(_DEMONSTRATIVE)
    if kind == "in_box":
        fill["skip"] = rng.choice(_IN_BOX)
        meta = {"has_box": True, "region": "box"}
    elif kind == "box":
        ref, meta = [rng.choice(_BOX_WORDS)], {"has_box": True, "region": "box"}
    elif kind == "it":
        ref, meta = [rng.choice(_PRONOUNS)], {"has_output": True, "region": "output"}
    forms = {"segment": _SEGMENT, "ground": _GROUND, "track": _TRACK, "generate_image": _GEN_IMAGE,
             "generate_video": _GEN_VIDEO, "animate_image": _ANIMATE}
    if task == "edit_image":
        form = rng.choice(_EDIT[op])
    elif task in forms:
        form = rng.choice(forms[task])
    elif task == "answer":
        about = rng.choices(("image", "box", "it"), (6, 2, 1.5))[0]
        form = [rng.choice({"image": _QUESTIONS, "box": _BOX_QUESTIONS, "it": _IT_QUESTIONS}[about])
                .replace("{n}", rng.choice(_NOUNS))]
        meta = {"image": {}, "box": {"has_box": True, "region": "box"}, "it": {"has_output": True, "region": "output"}}[
            about]
    else:
        form = [rng.choice(_CHAT)]
    parts: list[str] = []
    for part in form:
        parts += ref if part == "{r}" else [part]
    if task not in ("chat", "answer"):
        parts = [rng.choice(_PREFIX), *parts, rng.choice(_SUFFIX)]
    if "{r}" not in form and task != "answer":
        meta = {}
    text, spans = assemble_request(parts, fill, rng, typos=0.0)
    return LiteExample(text=text, task=task, op=op, spans=spans, **meta)
