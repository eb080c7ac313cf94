"""Chinese name parts and vectorised builders: places, people, phones, credit codes, plates."""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np
import numpy.typing as npt
from numpy.dtypes import StringDType

# An array of numpy.dtypes.StringDType; numpy's stubs lose that dtype through indexing
# and np.strings, so the alias only names the intent.
StrArray = npt.NDArray[Any]

STR = StringDType()


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


PLACE_ROOTS = _words("""
和平 安华 太平 光明 永安 长安 德胜 广安 白云 天宁 月坛 展览 紫竹 万寿 双榆 清河 花园 团结
八里 十里 六里 酒仙 来广 孙河 南磨 高碑 黑庄 双井 劲松 潘家 小红 卢沟 长辛 云岗 宛平 右安
新村 五里 八宝 古城 金顶 鲁谷 广宁 青塔 东坝 将台 崔各 金盏 豆各 三间 马家 西红 青云 学院
燕园 万柳 苏家 温泉 四季 上庄 北安 东高 沙河 南口 小汤 阳坊 兴寿 黄村 旧宫 瀛海 礼贤 采育
长阳 良乡 窦店 琉璃 宋庄 永顺 梨园 马驹 牛栏 仁和 后沙 李桥 杨镇 龙湖 桃园 杏林 榆树 柳荫
槐柏 枣林 松榆 芳草 百子 甘露 翠微 丰益 玉泉 金沟 银河 宝华 福海 瑞祥 吉祥 安贞 惠新 望春
朝来 北苑 南苑 东湖 西湖 中塔 北坞 清源 天竺 广渠 左安 方庄 蒲黄 木樨 羊坊 车道 龙潭 新源
""")
PLACE_SUFFIXES = (*"里桥庄门营店园村坊屯口坡湾台寺河苑街", *[""] * 4)
PLACE_PREFIXES = (*"东西南北新大小", *[""] * 18)
ROAD_SUFFIXES = ("路", "路", "街", "大街", "北路", "南路", "东路", "西路", "中路", "胡同")

BRAND_CHARS = tuple(
    "华中京创信达通联泰恒博瑞新源金鑫宏盛安捷智汇丰德益嘉世天科锐云星远腾凯润佳海晟昊卓航宇和"
    "合隆兴成诚万正明永利元融众"
)
INDUSTRIES = (
    "科技", "信息技术", "网络科技", "文化传媒", "商贸", "物业管理", "餐饮管理", "建筑工程",
    "企业管理咨询", "医药", "物流", "电子", "教育科技", "房地产开发", "广告", "投资管理", "软件",
    "环保科技", "生物技术", "健康管理",
)  # fmt: skip

SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈"
)
GIVEN_CHARS = tuple(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红鹏辉建国文志海波宁欣怡晨宇浩然子轩梓"
    "涵佳琪雪婷博凯鑫晓春东亮林成斌"
)
PHONE_PREFIXES = _words(
    "130 131 132 133 135 136 137 138 139 150 151 152 155 158 159 180 186 187 188 189"
)

# 统一社会信用代码: alphabet (no I, O, S, V, Z) and the weights of its check character.
CREDIT_ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
CREDIT_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
PLATE_LETTERS = tuple("ABCEFGHJKLMNPQ")


def pick(rng: np.random.Generator, parts: tuple[str, ...] | list[str], n: int) -> StrArray:
    """Return ``n`` parts drawn uniformly, as a numpy string array."""
    return np.array(parts, dtype=STR)[rng.integers(0, len(parts), n)]


def weighted(rng: np.random.Generator, parts: tuple[str, ...], n: int) -> StrArray:
    """Return ``n`` parts drawn with Zipf-like weights (earlier parts are more common)."""
    weights = 1.0 / np.arange(1, len(parts) + 1) ** 0.7
    return np.array(parts, dtype=STR)[rng.choice(len(parts), size=n, p=weights / weights.sum())]


def concat(*parts: StrArray | str) -> StrArray:
    """Concatenate string arrays (and constant strings) element-wise."""
    return reduce(np.strings.add, parts)  # type: ignore[arg-type]


def place_names(rng: np.random.Generator, n: int) -> StrArray:
    """Return ``n`` place-like names such as 安华里 or 东坝营."""
    prefix, root = pick(rng, PLACE_PREFIXES, n), pick(rng, PLACE_ROOTS, n)
    suffix = pick(rng, PLACE_SUFFIXES, n)
    # No 南口口: drop a suffix that repeats the root's last character.
    suffix = np.where(np.strings.endswith(root, suffix), "", suffix).astype(STR)
    return concat(prefix, root, suffix)


def unique_place_names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    """Return ``n`` distinct place names not in ``taken`` (and add them to it)."""
    out: list[str] = []
    while len(out) < n:
        for name in place_names(rng, 2 * (n - len(out))).tolist():
            if len(name) >= 2 and name not in taken and len(out) < n:
                taken.add(name)
                out.append(name)
    return out


def road_names(rng: np.random.Generator, n: int) -> StrArray:
    """Return ``n`` road names such as 安华北路 or 光明街."""
    return concat(pick(rng, PLACE_ROOTS, n), pick(rng, ROAD_SUFFIXES, n))


def brands(rng: np.random.Generator, n: int) -> StrArray:
    """Return ``n`` two-character trade names such as 恒瑞."""
    return concat(pick(rng, BRAND_CHARS, n), pick(rng, BRAND_CHARS, n))


def person_names(rng: np.random.Generator, n: int) -> StrArray:
    """Return ``n`` Chinese personal names (common surnames, one or two given characters)."""
    second = np.where(rng.random(n) < 0.65, pick(rng, GIVEN_CHARS, n), "").astype(STR)
    return concat(weighted(rng, SURNAMES, n), pick(rng, GIVEN_CHARS, n), second)


def digits(rng: np.random.Generator, n: int, width: int) -> StrArray:
    """Return ``n`` random strings of ``width`` decimal digits."""
    codes = rng.integers(ord("0"), ord("9") + 1, (n, width), dtype=np.uint8)
    return codes.view(f"S{width}").ravel().astype(STR)


def phones(rng: np.random.Generator, n: int) -> StrArray:
    """Return ``n`` mainland mobile numbers (13x/15x/18x, 11 digits)."""
    return concat(pick(rng, PHONE_PREFIXES, n), digits(rng, n, 8))


def credit_codes(rng: np.random.Generator, prefixes: StrArray, areas: StrArray) -> StrArray:
    """Return 统一社会信用代码 (valid check character) for 2-digit prefixes and 6-digit adcodes."""
    n = len(prefixes)
    body = np.empty((n, 18), dtype=np.int32)
    body[:, 0:2] = _digit_matrix(prefixes, 2)
    body[:, 2:8] = _digit_matrix(areas, 6)
    # The organisation code is mostly digits (210 of 231 draws), with the odd letter.
    draw = rng.integers(0, 231, (n, 9), dtype=np.int32)
    body[:, 8:17] = np.where(draw < 210, draw % 10, draw - 200)
    check = 31 - (body[:, :17] @ CREDIT_WEIGHTS) % 31
    body[:, 17] = np.where(check == 31, 0, check)
    return np.ascontiguousarray(CREDIT_ALPHABET[body]).view("S18").ravel().astype(STR)


def _digit_matrix(values: StrArray, width: int) -> npt.NDArray[np.int64]:
    """Return the decimal digits of fixed-width digit strings as an (n, width) matrix."""
    raw = values.astype(f"S{width}").view(np.uint8).reshape(len(values), width)
    return raw.astype(np.int64) - ord("0")


def external_ids(prefix: str, n: int, width: int) -> StrArray:
    """Return ``prefix`` followed by 1..n zero-padded to ``width`` digits."""
    return concat(prefix, np.strings.zfill(np.arange(1, n + 1).astype(STR), width))


def plates(rng: np.random.Generator, n: int, police: npt.NDArray[np.bool_]) -> StrArray:
    """Return ``n`` distinct Beijing plates (京A·12345; police 京A·1234警)."""
    numbers = rng.choice(len(PLATE_LETTERS) * 100_000, size=n, replace=False)
    out = _plate(numbers // 100_000, numbers % 100_000, 5, "")
    # Police plates are numbered apart (four digits and 警), distinct among themselves.
    rows = np.flatnonzero(police)
    badges = rng.choice(len(PLATE_LETTERS) * 10_000, size=len(rows), replace=False)
    out[rows] = _plate(badges // 10_000, badges % 10_000, 4, "警")
    return out


def _plate(
    letter: npt.NDArray[np.int64], number: npt.NDArray[np.int64], width: int, suffix: str
) -> StrArray:
    letters = np.array(PLATE_LETTERS, dtype=STR)[letter]
    return concat("京", letters, "·", np.strings.zfill(number.astype(STR), width), suffix)
