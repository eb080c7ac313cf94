"""Supervised units (单位): category, name, credit code, address, risk and contact, vectorised."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from layers.demo.names import (
    INDUSTRIES,
    STR,
    StrArray,
    brands,
    concat,
    credit_codes,
    person_names,
    phones,
    pick,
    place_names,
    road_names,
)

CATEGORIES = (
    "company", "school", "hospital", "mall", "hotel", "gas_station", "bank", "government",
    "transit_operator", "factory",
)  # fmt: skip
CATEGORY_WEIGHTS = np.array([0.55, 0.06, 0.03, 0.05, 0.06, 0.02, 0.06, 0.05, 0.02, 0.10])
GAS_STATION = CATEGORIES.index("gas_station")

# Probability of risk levels 1-4 per category: hospitals, schools and gas stations run hotter.
_RISK = {
    "hospital": (0.15, 0.35, 0.32, 0.18),
    "gas_station": (0.10, 0.30, 0.35, 0.25),
    "school": (0.20, 0.40, 0.28, 0.12),
    "mall": (0.35, 0.35, 0.20, 0.10),
    "transit_operator": (0.35, 0.35, 0.20, 0.10),
}
_RISK_DEFAULT = (0.58, 0.30, 0.09, 0.03)
_KEY_BY_RISK = np.array([0.01, 0.03, 0.12, 0.35])
# 统一社会信用代码 prefix: 91 enterprise, 12 public institution, 11 government body.
_CREDIT_PREFIX = {"school": "12", "hospital": "12", "government": "11"}

Builder = Callable[[np.random.Generator, StrArray], StrArray]


def _templates(*options: Builder) -> Builder:
    """Return a builder that picks one of ``options`` per row."""

    def build(rng: np.random.Generator, district: StrArray) -> StrArray:
        which = rng.integers(0, len(options), len(district))
        out = np.empty(len(district), dtype=STR)
        for k, option in enumerate(options):
            rows = which == k
            out[rows] = option(rng, district[rows])
        return out

    return build


def _suffix(*words: str) -> Callable[[np.random.Generator, int], StrArray]:
    return lambda rng, n: pick(rng, words, n)


def _p(rng: np.random.Generator, d: StrArray) -> StrArray:
    return place_names(rng, len(d))


def _b(rng: np.random.Generator, d: StrArray) -> StrArray:
    return brands(rng, len(d))


_BANKS = _suffix(
    "中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "交通银行", "北京银行", "招商银行",
    "中国邮政储蓄银行",
)  # fmt: skip
_AGENCIES = _suffix(
    "市场监督管理局", "人力资源和社会保障局", "卫生健康委员会", "教育委员会", "城市管理委员会",
    "民政局", "应急管理局", "生态环境局",
)  # fmt: skip

NAME_BUILDERS: dict[str, Builder] = {
    "company": _templates(
        lambda r, d: concat("北京", _b(r, d), pick(r, INDUSTRIES, len(d)), "有限公司"),
        lambda r, d: concat("北京", _b(r, d), pick(r, INDUSTRIES, len(d)), "股份有限公司"),
        lambda r, d: concat(_b(r, d), "大厦"),
    ),
    "school": _templates(
        lambda r, d: concat("北京市", d, _p(r, d), _suffix("小学", "中学", "幼儿园")(r, len(d))),
        lambda r, d: concat("北京市", _p(r, d), "实验学校"),
    ),
    "hospital": _templates(
        lambda r, d: concat(_p(r, d), "医院"),
        lambda r, d: concat("北京", _b(r, d), _suffix("医院", "口腔医院", "妇产医院")(r, len(d))),
        lambda r, d: concat(d, _p(r, d), "社区卫生服务中心"),
    ),
    "mall": _templates(
        lambda r, d: concat(_p(r, d), "购物中心"),
        lambda r, d: concat(_b(r, d), _suffix("商场", "广场", "百货")(r, len(d))),
    ),
    "hotel": _templates(
        lambda r, d: concat(_b(r, d), _suffix("酒店", "大酒店", "国际酒店")(r, len(d))),
        lambda r, d: concat(_p(r, d), _suffix("宾馆", "快捷酒店")(r, len(d))),
    ),
    "gas_station": lambda r, d: concat(
        _suffix("中国石化", "中国石油", "中海油")(r, len(d)), "北京", _p(r, d), "加油站"
    ),
    "bank": lambda r, d: concat(_BANKS(r, len(d)), "北京", _p(r, d), "支行"),
    "government": _templates(
        lambda r, d: concat(d, _p(r, d), "街道办事处"),
        lambda r, d: concat("北京市", d, _AGENCIES(r, len(d))),
    ),
    "transit_operator": _templates(
        lambda r, d: concat("北京公交集团", _p(r, d), "车队"),
        lambda r, d: concat("北京", _b(r, d), "出租汽车有限公司"),
        lambda r, d: concat("北京", _b(r, d), "汽车租赁有限公司"),
    ),
    "factory": _templates(
        lambda r, d: concat(
            "北京", _b(r, d), _suffix("食品厂", "机械厂", "印刷厂", "服装厂", "家具厂")(r, len(d))
        ),
        lambda r, d: concat(
            "北京", _b(r, d), _suffix("化工", "制药", "汽车零部件", "新材料")(r, len(d)), "有限公司"
        ),
    ),
}


def categories(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    """Return ``n`` category indices into ``CATEGORIES`` with realistic weights."""
    return rng.choice(len(CATEGORIES), size=n, p=CATEGORY_WEIGHTS / CATEGORY_WEIGHTS.sum())


def unit_columns(
    rng: np.random.Generator,
    category: npt.NDArray[np.int64],
    district_name: StrArray,
    district_code: StrArray,
) -> dict[str, npt.NDArray[np.generic]]:
    """Return the attribute columns of units of the given categories and districts."""
    n = len(category)
    names = np.empty(n, dtype=STR)
    risk = np.empty(n, dtype=np.int16)
    prefix = np.empty(n, dtype=STR)
    for k, cat in enumerate(CATEGORIES):
        rows = category == k
        names[rows] = NAME_BUILDERS[cat](rng, district_name[rows])
        risk[rows] = 1 + rng.choice(4, size=int(rows.sum()), p=_RISK.get(cat, _RISK_DEFAULT))
        prefix[rows] = _CREDIT_PREFIX.get(cat, "91")
    number = (1 + rng.integers(0, 300, n)).astype(STR)
    return {
        "name": names,
        "category": np.array(CATEGORIES, dtype=STR)[category],
        "credit_code": credit_codes(rng, prefix, district_code),
        "address": concat("北京市", district_name, road_names(rng, n), number, "号"),
        "risk_level": risk,
        "is_key_unit": rng.random(n) < _KEY_BY_RISK[risk - 1],
        "contact_name": person_names(rng, n),
        "contact_phone": phones(rng, n),
    }
